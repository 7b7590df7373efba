<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/** A persistent phpredis connection from a REDIS_URL (redis://[:password@]host[:port][/db]). */
final class RedisConnection
{
    public static function open(string $url): \Redis
    {
        $parts = parse_url($url);
        if ($parts === false || !in_array($parts['scheme'] ?? '', ['redis', 'unix'], true)) {
            throw new \InvalidArgumentException("REDIS_URL {$url} is not a redis:// URL");
        }
        $db = (int) trim($parts['path'] ?? '/0', '/');
        $redis = new \Redis();
        if (($parts['scheme'] ?? '') === 'unix') {
            $redis->pconnect($parts['path'] ?? '', 0, 2.0);
        } else {
            $redis->pconnect($parts['host'] ?? '127.0.0.1', (int) ($parts['port'] ?? 6379), 2.0, "snipshop-{$db}", 0, 2.0);
        }
        if (isset($parts['pass']) || isset($parts['user'])) {
            $auth = isset($parts['user']) && $parts['user'] !== '' ? [urldecode($parts['user']), urldecode($parts['pass'] ?? '')] : urldecode($parts['pass'] ?? '');
            $redis->auth($auth);
        }
        if ($redis->getDbNum() !== $db) {  // a reused connection has it selected already
            $redis->select($db);
        }
        $redis->setOption(\Redis::OPT_READ_TIMEOUT, 2.0);
        return $redis;
    }
}
