<?php
declare(strict_types=1);

namespace SnipShop\Compat\Search;

/**
 * The nodes of an Elasticsearch cluster (``ELASTICSEARCH_URL``: one URL, or several separated by
 * commas), as the edge's Python client uses them (search/factory.py): each request starts at a
 * node picked at random and goes on to the next when a node cannot be reached, times out or
 * answers 502/503/504; it fails when every node did.
 */
final class ElasticNodes
{
    private const TIMEOUT_SECONDS = 5;
    private const RETRY_STATUSES = [502, 503, 504];

    /** @var list<string> */
    private readonly array $urls;

    public function __construct(string $urls)
    {
        $list = array_values(array_filter(
            array_map(static fn (string $u) => rtrim(trim($u), '/'), explode(',', $urls)),
            static fn (string $u) => $u !== '',
        ));
        if ($list === []) {
            throw new \InvalidArgumentException('ELASTICSEARCH_URL names no node');
        }
        $this->urls = $list;
    }

    /** @return list<string> */
    public function urls(): array
    {
        return $this->urls;
    }

    /** @return array{0: int, 1: mixed} status and decoded body */
    public function request(string $method, string $path, string $body): array
    {
        $count = count($this->urls);
        $first = $count > 1 ? random_int(0, $count - 1) : 0;
        $failures = [];
        for ($i = 0; $i < $count; $i++) {
            $url = $this->urls[($first + $i) % $count];
            $handle = curl_init($url . $path);
            curl_setopt_array($handle, [
                CURLOPT_CUSTOMREQUEST => $method,
                CURLOPT_POSTFIELDS => $body,
                CURLOPT_HTTPHEADER => ['Content-Type: application/json', 'Accept: application/json'],
                CURLOPT_RETURNTRANSFER => true,
                CURLOPT_TIMEOUT => self::TIMEOUT_SECONDS,
                CURLOPT_CONNECTTIMEOUT => self::TIMEOUT_SECONDS,
            ]);
            $text = curl_exec($handle);
            $status = (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
            $error = curl_error($handle);
            curl_close($handle);
            if ($text === false) {
                $failures[] = "{$url}: {$error}";
                continue;
            }
            if (in_array($status, self::RETRY_STATUSES, true) && $i < $count - 1) {
                $failures[] = "{$url}: HTTP {$status}";
                continue;
            }
            return [$status, json_decode((string) $text, true)];
        }
        throw new \RuntimeException('Elasticsearch unreachable: ' . implode('; ', $failures));
    }
}
