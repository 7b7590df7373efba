<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * What this front end served from each generation while a canary runs, added to the same Redis
 * hashes as the edge's counts (web/edge/canary_counts.py; format in vocab/canary_stats.py), so
 * `projector compare` sees both front ends. A PHP process keeps nothing between requests: one
 * pipeline per request, only while a canary runs.
 */
final class CanaryCounts
{
    public static function add(\Closure $connect, KeyScheme $keys, int $generation, int $status, float $seconds,
        bool $degraded, int $misses): void
    {
        $shared = Shared::get('canary');
        $ms = $seconds * 1000;
        $latency = 'latency:inf';
        foreach ($shared['latency_bounds_ms'] as $bound) {
            if ($ms <= $bound) {
                $latency = "latency:{$bound}";
                break;
            }
        }
        $key = $keys->canaryStats($generation, intdiv(time(), 60));
        try {
            $pipe = $connect()->pipeline();
            $pipe->hIncrBy($key, 'requests', 1);
            $pipe->hIncrBy($key, "status:{$status}", 1);
            $pipe->hIncrBy($key, $latency, 1);
            if ($degraded) {
                $pipe->hIncrBy($key, 'degraded', 1);
            }
            if ($misses > 0) {
                $pipe->hIncrBy($key, 'misses', $misses);
            }
            $pipe->expire($key, $shared['stats_ttl_seconds']);
            $pipe->exec();
        } catch (\RedisException) {
            // the counts of one request are lost; the answer is not
        }
    }
}
