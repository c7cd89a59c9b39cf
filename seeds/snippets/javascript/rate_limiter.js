'use strict';

/**
 * Token-bucket rate limiter: each key gets `capacity` tokens that refill at
 * `refillPerSecond`. A request costs one token (or `cost` tokens).
 */
class TokenBucket {
  constructor(capacity, refillPerSecond, now = Date.now) {
    if (capacity <= 0 || refillPerSecond <= 0) {
      throw new RangeError('capacity and refillPerSecond must be positive');
    }
    this.capacity = capacity;
    this.refillPerSecond = refillPerSecond;
    this.now = now;
    this.tokens = capacity;
    this.updatedAt = now();
  }

  refill() {
    const current = this.now();
    const elapsed = (current - this.updatedAt) / 1000;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.refillPerSecond);
      this.updatedAt = current;
    }
  }

  tryTake(cost = 1) {
    this.refill();
    if (this.tokens >= cost) {
      this.tokens -= cost;
      return true;
    }
    return false;
  }

  msUntilAvailable(cost = 1) {
    this.refill();
    const missing = cost - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing / this.refillPerSecond) * 1000);
  }
}

class RateLimiter {
  constructor({ capacity = 10, refillPerSecond = 1, maxKeys = 10000, now = Date.now } = {}) {
    this.options = { capacity, refillPerSecond, now };
    this.maxKeys = maxKeys;
    this.buckets = new Map();
  }

  bucketFor(key) {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value;
        this.buckets.delete(oldest);
      }
      const { capacity, refillPerSecond, now } = this.options;
      bucket = new TokenBucket(capacity, refillPerSecond, now);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  check(key, cost = 1) {
    const bucket = this.bucketFor(key);
    const allowed = bucket.tryTake(cost);
    return {
      allowed,
      remaining: Math.floor(bucket.tokens),
      retryAfterMs: allowed ? 0 : bucket.msUntilAvailable(cost),
    };
  }
}

function middleware(limiter, keyOf = (req) => req.ip) {
  return function limit(req, res, next) {
    const result = limiter.check(keyOf(req));
    res.setHeader('X-RateLimit-Remaining', String(result.remaining));
    if (!result.allowed) {
      res.statusCode = 429;
      res.setHeader('Retry-After', String(Math.ceil(result.retryAfterMs / 1000)));
      res.end('Too Many Requests');
      return;
    }
    next();
  };
}

module.exports = { TokenBucket, RateLimiter, middleware };
