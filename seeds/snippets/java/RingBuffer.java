import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/** A fixed-capacity FIFO queue that overwrites its oldest element when full. */
public final class RingBuffer<T> implements Iterable<T> {
    private final Object[] items;
    private int head;
    private int size;

    public RingBuffer(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.items = new Object[capacity];
    }

    public int capacity() {
        return items.length;
    }

    public int size() {
        return size;
    }

    public boolean isFull() {
        return size == items.length;
    }

    /** Adds an element; returns the element it overwrote, or null. */
    @SuppressWarnings("unchecked")
    public T push(T value) {
        int tail = (head + size) % items.length;
        T overwritten = null;
        if (isFull()) {
            overwritten = (T) items[head];
            head = (head + 1) % items.length;
        } else {
            size++;
        }
        items[tail] = value;
        return overwritten;
    }

    @SuppressWarnings("unchecked")
    public T pop() {
        if (size == 0) {
            throw new NoSuchElementException("buffer is empty");
        }
        T value = (T) items[head];
        items[head] = null;
        head = (head + 1) % items.length;
        size--;
        return value;
    }

    @SuppressWarnings("unchecked")
    public T get(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("index " + index + ", size " + size);
        }
        return (T) items[(head + index) % items.length];
    }

    public List<T> toList() {
        List<T> out = new ArrayList<>(size);
        for (T item : this) {
            out.add(item);
        }
        return out;
    }

    @Override
    public Iterator<T> iterator() {
        return new Iterator<T>() {
            private int seen = 0;

            @Override
            public boolean hasNext() {
                return seen < size;
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return get(seen++);
            }
        };
    }

    public static void main(String[] args) {
        RingBuffer<Integer> buffer = new RingBuffer<>(3);
        for (int i = 1; i <= 5; i++) {
            buffer.push(i);
        }
        System.out.println(buffer.toList() + " pop=" + buffer.pop());
    }
}
