// Interval utilities: merge overlapping intervals, insert one, and intersect two sets.
#include <algorithm>
#include <iostream>
#include <vector>

struct Interval {
    long start;
    long end;  // inclusive

    bool overlaps(const Interval& other) const {
        return start <= other.end && other.start <= end;
    }
};

class IntervalSet {
public:
    IntervalSet() = default;

    explicit IntervalSet(std::vector<Interval> items) : items_(merge(std::move(items))) {}

    static std::vector<Interval> merge(std::vector<Interval> items) {
        std::sort(items.begin(), items.end(), [](const Interval& a, const Interval& b) {
            return a.start < b.start || (a.start == b.start && a.end < b.end);
        });
        std::vector<Interval> out;
        for (const Interval& item : items) {
            if (!out.empty() && item.start <= out.back().end + 1) {
                out.back().end = std::max(out.back().end, item.end);
            } else {
                out.push_back(item);
            }
        }
        return out;
    }

    void insert(Interval item) {
        std::vector<Interval> out;
        auto it = items_.begin();
        while (it != items_.end() && it->end + 1 < item.start) {
            out.push_back(*it++);
        }
        while (it != items_.end() && it->start <= item.end + 1) {
            item.start = std::min(item.start, it->start);
            item.end = std::max(item.end, it->end);
            ++it;
        }
        out.push_back(item);
        out.insert(out.end(), it, items_.end());
        items_.swap(out);
    }

    IntervalSet intersect(const IntervalSet& other) const {
        IntervalSet result;
        size_t i = 0, j = 0;
        while (i < items_.size() && j < other.items_.size()) {
            const Interval& a = items_[i];
            const Interval& b = other.items_[j];
            if (a.overlaps(b)) {
                result.items_.push_back({std::max(a.start, b.start), std::min(a.end, b.end)});
            }
            if (a.end < b.end) {
                ++i;
            } else {
                ++j;
            }
        }
        return result;
    }

    bool contains(long point) const {
        auto it = std::upper_bound(items_.begin(), items_.end(), point,
                                   [](long p, const Interval& iv) { return p < iv.start; });
        return it != items_.begin() && std::prev(it)->end >= point;
    }

    const std::vector<Interval>& items() const { return items_; }

private:
    std::vector<Interval> items_;
};

int main() {
    IntervalSet a({{1, 3}, {2, 6}, {8, 10}, {15, 18}});
    a.insert({11, 12});
    IntervalSet b({{5, 9}, {17, 20}});
    IntervalSet both = a.intersect(b);
    for (const Interval& iv : both.items()) {
        std::cout << "[" << iv.start << ", " << iv.end << "] ";
    }
    std::cout << a.contains(7) << a.contains(12) << "\n";
    return 0;
}
