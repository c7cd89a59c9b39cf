# frozen_string_literal: true

# Retries a block with exponential backoff and jitter.
module Retry
  class GaveUp < StandardError
    attr_reader :attempts, :last_error

    def initialize(attempts, last_error)
      @attempts = attempts
      @last_error = last_error
      super("gave up after #{attempts} attempts: #{last_error.message}")
    end
  end

  DEFAULTS = {
    attempts: 5,
    base_delay: 0.1,
    max_delay: 5.0,
    multiplier: 2.0,
    jitter: 0.5,
    on: [StandardError]
  }.freeze

  def self.delay_for(attempt, options, random: Random)
    delay = options[:base_delay] * (options[:multiplier]**(attempt - 1))
    delay = [delay, options[:max_delay]].min
    spread = delay * options[:jitter]
    delay - spread + random.rand * 2 * spread
  end

  def self.with_retries(sleeper: method(:sleep), random: Random, **overrides)
    options = DEFAULTS.merge(overrides)
    attempt = 0
    begin
      attempt += 1
      yield attempt
    rescue *options[:on] => e
      raise GaveUp.new(attempt, e) if attempt >= options[:attempts]

      sleeper.call(delay_for(attempt, options, random: random))
      retry
    end
  end
end

class FlakyService
  def initialize(failures)
    @failures = failures
    @calls = 0
  end

  def fetch
    @calls += 1
    raise IOError, "timeout on call #{@calls}" if @calls <= @failures

    "ok after #{@calls} calls"
  end
end

if $PROGRAM_NAME == __FILE__
  service = FlakyService.new(2)
  puts Retry.with_retries(sleeper: ->(_) {}) { service.fetch }
end
