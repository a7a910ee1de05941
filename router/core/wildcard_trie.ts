/**
 * The wildcard patterns of a `MatchIndex`: a radix trie over URI
 * components. Sans-I/O; no validation, but a URI longer than any valid
 * one matches nothing.
 *
 * @module
 */

import { MAX_URI_LENGTH } from "../../wamp/mod.ts";

/**
 * A node of the trie. The edge into it stands for a run of pattern
 * components, so a run that no other pattern branches from is one node.
 * Every node but the root ends a pattern or branches.
 */
interface Node<T> {
  /** The components of the edge into this node (an empty one matches any one component); none at the root. */
  run: string[];
  /** Children whose run begins with a literal (non-empty) component, by that component. */
  literal: Map<string, Node<T>> | undefined;
  /** The child whose run begins with an empty component. */
  wildcard: Node<T> | undefined;
  /** Whether a pattern ends at this node. */
  has: boolean;
  value: T | undefined;
}

function newNode<T>(run: string[]): Node<T> {
  return { run, literal: undefined, wildcard: undefined, has: false, value: undefined };
}

function childCount<T>(node: Node<T>): number {
  return (node.literal?.size ?? 0) + (node.wildcard === undefined ? 0 : 1);
}

/** The child of `node` whose run begins with `component`. */
function childOf<T>(node: Node<T>, component: string): Node<T> | undefined {
  return component === "" ? node.wildcard : node.literal?.get(component);
}

/** Makes `child` the child of `node` for the first component of its run. */
function setChild<T>(node: Node<T>, child: Node<T>): void {
  const component = child.run[0]!;
  if (component === "") node.wildcard = child;
  else (node.literal ??= new Map()).set(component, child);
}

function removeChild<T>(node: Node<T>, child: Node<T>): void {
  const component = child.run[0]!;
  if (component === "") node.wildcard = undefined;
  else {
    node.literal!.delete(component);
    if (node.literal!.size === 0) node.literal = undefined;
  }
}

/** Gives `node` its only child's run, children and value (its own value is gone). */
function absorbOnlyChild<T>(node: Node<T>): void {
  const child = node.wildcard ?? node.literal!.values().next().value!;
  node.run = node.run.concat(child.run);
  node.literal = child.literal;
  node.wildcard = child.wildcard;
  node.has = child.has;
  node.value = child.value;
}

/**
 * Whether the run of `child`, found by the URI's component at `depth`,
 * matches the URI's components from there (its first one does already).
 */
function enters<T>(child: Node<T> | undefined, parts: string[], depth: number): child is Node<T> {
  if (child === undefined) return false;
  const run = child.run;
  if (depth + run.length > parts.length) return false;
  for (let i = 1; i < run.length; i++) {
    const component = run[i]!;
    if (component !== "" && component !== parts[depth + i]) return false;
  }
  return true;
}

/** Appends every value under `node` matching the URI's components from `depth`, literal branches first. */
function collect<T>(node: Node<T>, parts: string[], depth: number, out: T[]): void {
  if (depth === parts.length) {
    if (node.has) out.push(node.value as T);
    return;
  }
  const literal = node.literal?.get(parts[depth]!);
  if (enters(literal, parts, depth)) collect(literal, parts, depth + literal.run.length, out);
  const wildcard = node.wildcard;
  if (enters(wildcard, parts, depth)) collect(wildcard, parts, depth + wildcard.run.length, out);
}

/** The first node under `node` (literal branches first) at which a pattern matching the URI ends. */
function first<T>(node: Node<T>, parts: string[], depth: number): Node<T> | undefined {
  if (depth === parts.length) return node.has ? node : undefined;
  const literal = node.literal?.get(parts[depth]!);
  if (enters(literal, parts, depth)) {
    const found = first(literal, parts, depth + literal.run.length);
    if (found !== undefined) return found;
  }
  const wildcard = node.wildcard;
  if (!enters(wildcard, parts, depth)) return undefined;
  return first(wildcard, parts, depth + wildcard.run.length);
}

/**
 * Whether a URI is longer than any valid one, so that no stored pattern
 * can match it: it is not split (the lookups of the meta API take URIs
 * unchecked; splitting a 15 MiB one of dots took 0.3 s).
 */
function tooLong(uri: string): boolean {
  return uri.length > MAX_URI_LENGTH;
}

function* walk<T>(node: Node<T>): Generator<T> {
  if (node.has) yield node.value as T;
  if (node.literal !== undefined) {
    for (const child of node.literal.values()) yield* walk(child);
  }
  if (node.wildcard !== undefined) yield* walk(node.wildcard);
}

/**
 * Wildcard patterns, each holding one value: an empty component matches
 * exactly one component of any content, with equal component counts.
 *
 * Matching walks only branches that match the URI so far, and a run of
 * components that no other pattern branches from is one node. So a URI
 * costs at most about two node visits per stored pattern whose beginning
 * it matches, however long the patterns are.
 *
 * @typeParam T The value stored per pattern.
 */
export class WildcardTrie<T> {
  #root: Node<T> = newNode([]);
  #size = 0;
  #components = 0;

  /** The number of patterns stored. */
  get size(): number {
    return this.#size;
  }

  /**
   * The components of the stored patterns, those of a common beginning
   * counted once: what `MatchIndex.wildcardNodes` reports.
   */
  get components(): number {
    return this.#components;
  }

  /**
   * The value stored for exactly this pattern; no matching is done.
   *
   * @param pattern The pattern, as given to {@linkcode WildcardTrie.set}.
   * @returns The value, or `undefined` when there is none.
   */
  get(pattern: string): T | undefined {
    return this.#path(pattern)?.at(-1)?.value;
  }

  /**
   * Whether this exact pattern is stored.
   *
   * @param pattern The pattern.
   * @returns True when it is.
   */
  has(pattern: string): boolean {
    return this.#path(pattern) !== undefined;
  }

  /**
   * Stores `value` for `pattern`, replacing any previous value.
   *
   * @param pattern The pattern.
   * @param value The value to store.
   */
  set(pattern: string, value: T): void {
    if (tooLong(pattern)) throw new RangeError(`a pattern of ${pattern.length} characters`);
    const parts = pattern.split(".");
    let node = this.#root;
    let depth = 0;
    while (depth < parts.length) {
      const child = childOf(node, parts[depth]!);
      if (child === undefined) {
        const leaf = newNode<T>(parts.slice(depth));
        setChild(node, leaf);
        this.#components += leaf.run.length;
        node = leaf;
        break;
      }
      const run = child.run;
      let shared = 1;
      while (shared < run.length && parts[depth + shared] === run[shared]) shared++;
      if (shared < run.length) {
        // The pattern leaves the run part way: split it there.
        const middle = newNode<T>(run.slice(0, shared));
        child.run = run.slice(shared);
        setChild(middle, child);
        setChild(node, middle);
        node = middle;
      } else node = child;
      depth += shared;
    }
    if (!node.has) this.#size++;
    node.has = true;
    node.value = value;
  }

  /**
   * Removes `pattern`.
   *
   * @param pattern The pattern.
   * @returns Whether it was stored.
   */
  delete(pattern: string): boolean {
    const path = this.#path(pattern);
    if (path === undefined) return false;
    const node = path.at(-1)!;
    node.has = false;
    node.value = undefined;
    this.#size--;
    const children = childCount(node);
    if (children === 1) absorbOnlyChild(node);
    if (children > 0) return true;
    const parent = path.at(-2)!;
    removeChild(parent, node);
    this.#components -= node.run.length;
    if (parent !== this.#root && !parent.has && childCount(parent) === 1) absorbOnlyChild(parent);
    return true;
  }

  /**
   * Appends every value whose pattern matches the concrete `uri`, literal
   * components before empty ones at each position.
   *
   * @param uri A concrete URI.
   * @param out Where to append.
   */
  collect(uri: string, out: T[]): void {
    if (this.#size > 0 && !tooLong(uri)) collect(this.#root, uri.split("."), 0, out);
  }

  /**
   * The value of the pattern whose literal components reach furthest,
   * position by position from the left.
   *
   * @param uri A concrete URI.
   * @returns The value, or `undefined` when no pattern matches.
   */
  best(uri: string): T | undefined {
    if (this.#size === 0 || tooLong(uri)) return undefined;
    return first(this.#root, uri.split("."), 0)?.value;
  }

  /**
   * Every stored value, in no particular order.
   *
   * @returns An iterator over the values.
   */
  values(): IterableIterator<T> {
    return walk(this.#root);
  }

  /** The nodes from the root to where `pattern` ends, when it is stored. */
  #path(pattern: string): Node<T>[] | undefined {
    if (tooLong(pattern)) return undefined;
    const parts = pattern.split(".");
    const path = [this.#root];
    let node = this.#root;
    let depth = 0;
    while (depth < parts.length) {
      const child = childOf(node, parts[depth]!);
      if (child === undefined || depth + child.run.length > parts.length) return undefined;
      if (child.run.some((component, i) => component !== parts[depth + i])) return undefined;
      path.push(node = child);
      depth += child.run.length;
    }
    return node.has ? path : undefined;
  }
}
