/** A prefix tree over strings, with counts, prefix search and deletion. */

interface TrieNode {
  children: Map<string, TrieNode>;
  terminal: number;
  passing: number;
}

function newNode(): TrieNode {
  return { children: new Map(), terminal: 0, passing: 0 };
}

export class Trie {
  private readonly root: TrieNode = newNode();
  private count = 0;

  get size(): number {
    return this.count;
  }

  insert(word: string): void {
    let node = this.root;
    node.passing++;
    for (const ch of word) {
      let next = node.children.get(ch);
      if (next === undefined) {
        next = newNode();
        node.children.set(ch, next);
      }
      next.passing++;
      node = next;
    }
    node.terminal++;
    this.count++;
  }

  private find(prefix: string): TrieNode | undefined {
    let node: TrieNode | undefined = this.root;
    for (const ch of prefix) {
      node = node.children.get(ch);
      if (node === undefined) {
        return undefined;
      }
    }
    return node;
  }

  has(word: string): boolean {
    return (this.find(word)?.terminal ?? 0) > 0;
  }

  countPrefix(prefix: string): number {
    return this.find(prefix)?.passing ?? 0;
  }

  withPrefix(prefix: string, limit = Infinity): string[] {
    const start = this.find(prefix);
    const out: string[] = [];
    if (start === undefined) {
      return out;
    }
    const walk = (node: TrieNode, path: string): void => {
      if (out.length >= limit) {
        return;
      }
      for (let i = 0; i < node.terminal && out.length < limit; i++) {
        out.push(path);
      }
      const keys = [...node.children.keys()].sort();
      for (const key of keys) {
        walk(node.children.get(key)!, path + key);
      }
    };
    walk(start, prefix);
    return out;
  }

  delete(word: string): boolean {
    if (!this.has(word)) {
      return false;
    }
    let node = this.root;
    node.passing--;
    for (const ch of word) {
      const next = node.children.get(ch)!;
      next.passing--;
      if (next.passing === 0) {
        node.children.delete(ch);
        this.count--;
        return true;
      }
      node = next;
    }
    node.terminal--;
    this.count--;
    return true;
  }
}
