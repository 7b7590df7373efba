<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * The front end's view of the snippet store (web/edge/snippets.py): the live pointer and one
 * MGET per fetch. A PHP process keeps nothing between requests, so the pointer is read once per
 * request (the Python edge keeps it for POINTER_CACHE_SECONDS) and there is no near cache.
 */
final class SnippetReader
{
    private ?int $live = null;
    private bool $liveRead = false;
    private bool $unreachable = false;

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
        if (!$this->liveRead) {
            $this->unreachable = true;  // until the pointer is read
            $raw = $this->redis()->get($this->keys->live());
            $this->unreachable = false;
            $this->live = $raw === false ? null : (int) $raw;
            $this->liveRead = true;
        }
        return $this->live;
    }

    /**
     * The generation this response was served from (X-Generation). A response that read none
     * (liveness, an error page without the frame) reads the pointer now: the edge names the one
     * its process last read, and a PHP process keeps nothing between requests. Null when there
     * is none, or when the store did not answer (no second wait for it).
     */
    public function servedGeneration(): ?int
    {
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
        return array_map(static fn ($v) => $v === false ? null : (string) $v, $values);
    }
}
