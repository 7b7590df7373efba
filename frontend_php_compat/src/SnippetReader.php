<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * The front end's view of the snippet store (web/edge/snippets.py): the live pointer, the
 * running canary and the generation chosen for this shopper, and one MGET per fetch. A PHP process keeps nothing between requests, so the pointer is read once per
 * request (the Python edge keeps it for POINTER_CACHE_SECONDS) and there is no near cache.
 */
final class SnippetReader
{
    private ?int $live = null;
    /** @var array{generation: int, percent: int}|null */
    private ?array $canary = null;
    private bool $liveRead = false;
    private bool $unreachable = false;
    /** The generation chosen for this shopper (web/edge/shopper_buckets.py), null: the live one. */
    private ?int $assigned = null;
    public bool $onCanary = false;
    /** Snippets asked for and missing in this request (for the canary's counts). */
    public int $misses = 0;

    public function __construct(private readonly \Closure $connect, private readonly KeyScheme $keys)
    {
    }

    /** The store's connection, opened on first use (persistent: reused by the next request of the worker). */
    private function redis(): \Redis
    {
        return ($this->connect)();
    }

    public function liveGeneration(): ?int
    {
        return $this->pointers()[0];
    }

    /**
     * The live generation and the running canary (generation and percent; null: none), read
     * together once per request.
     *
     * @return array{0: ?int, 1: array{generation: int, percent: int}|null}
     */
    public function pointers(): array
    {
        if (!$this->liveRead) {
            if ($this->unreachable) {  // it did not answer a moment ago in this request: no second wait
                throw new \RedisException('the snippet store did not answer');
            }
            $this->unreachable = true;  // until the pointer is read
            $raw = $this->redis()->mGet([$this->keys->live(), $this->keys->canary()]);
            if (!is_array($raw)) {
                throw new \RedisException('MGET failed: ' . $this->redis()->getLastError());
            }
            $this->unreachable = false;
            $this->live = $raw[0] === false ? null : (int) $raw[0];
            $this->canary = self::canaryRecord($raw[1]);
            $this->liveRead = true;
        }
        return [$this->live, $this->canary];
    }

    /** @return array{generation: int, percent: int}|null the record, or null when absent or unreadable */
    private static function canaryRecord(mixed $raw): ?array
    {
        if (!is_string($raw)) {
            return null;
        }
        $data = json_decode($raw, true);
        if (!is_array($data) || !is_numeric($data['generation'] ?? null) || !is_numeric($data['percent'] ?? null)) {
            return null;
        }
        return ['generation' => (int) $data['generation'], 'percent' => (int) $data['percent']];
    }

    /** Serve this request from ``$generation`` (a running canary's, or the live one). */
    public function assign(int $generation, bool $onCanary): void
    {
        $this->assigned = $generation;
        $this->onCanary = $onCanary;
    }

    /** The generation to count this request under while a canary runs (CanaryCounts); null: none runs. */
    public function countedGeneration(): ?int
    {
        return $this->canary !== null ? $this->assigned : null;
    }

    /** The generation this request is served from: the one assigned, else the live one. */
    public function generation(): ?int
    {
        return $this->assigned ?? $this->liveGeneration();
    }

    /**
     * The generation this response was served from (X-Generation). A response that read none
     * (liveness, an error page without the frame) reads the pointer now: the edge names the one
     * its process last read, and a PHP process keeps nothing between requests. Null when there
     * is none, or when the store did not answer (no second wait for it).
     */
    public function servedGeneration(): ?int
    {
        if ($this->assigned !== null) {
            return $this->assigned;
        }
        if ($this->liveRead || $this->unreachable) {
            return $this->live;
        }
        try {
            return $this->liveGeneration();
        } catch (\Exception) {  // a header never turns an answer into an error
            return null;
        }
    }

    /**
     * @param list<string> $keys
     * @return list<?string> values in order, null where missing
     */
    public function fetch(array $keys): array
    {
        if ($keys === []) {
            return [];
        }
        $values = $this->redis()->mGet($keys);
        if (!is_array($values)) {
            throw new \RedisException('MGET failed: ' . $this->redis()->getLastError());
        }
        $found = array_map(static fn ($v) => $v === false ? null : (string) $v, $values);
        $this->misses += count($found) - count(array_filter($found, static fn ($v) => $v !== null));
        return $found;
    }
}
