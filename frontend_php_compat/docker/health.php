<?php
// The container's health check: the front end answers /readyz through nginx and php-fpm as the
// edge's check does (the snippet store answers and a generation is live; a 502 from nginx alone,
// php-fpm down, is unhealthy). Exit 0 when ready.
declare(strict_types=1);

$host = getenv('BIND_HOST') ?: '127.0.0.1';
$port = getenv('PHP_PORT') ?: '8080';
$url = 'http://' . (str_contains($host, ':') ? "[{$host}]" : $host) . ":{$port}/readyz";
$context = stream_context_create(['http' => ['timeout' => 4, 'ignore_errors' => true]]);
$body = @file_get_contents($url, false, $context);
$status = isset($http_response_header[0]) && preg_match('#^HTTP/\S+ (\d{3})#', $http_response_header[0], $m) === 1 ? (int) $m[1] : 0;
if ($status !== 200 || $body === false || !str_contains($body, '"ready"')) {
    fwrite(STDERR, "{$url}: " . ($status === 0 ? 'no answer' : "status {$status}") . "\n");
    exit(1);
}
exit(0);
