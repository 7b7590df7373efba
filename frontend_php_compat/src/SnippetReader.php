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

    public function __construct(private readonly \Closure $connect, private readonly KeyScheme $keys)
    {
    }

    /** The store's connection, opened on first use (a liveness check opens none). */
    private function redis(): \Redis
    {
        return ($this->connect)();
    }

    public function liveGeneration(): ?int
    {
        if (!$this->liveRead) {
            $raw = $this->redis()->get($this->keys->live());
            $this->live = $raw === false ? null : (int) $raw;
            $this->liveRead = true;
        }
        return $this->live;
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
