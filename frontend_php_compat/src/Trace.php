<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * What every response says about where it came from, as the edge's web/revision.py says it:
 * `X-Revision` (the image's revision, SNIPSHOP_REVISION), `X-Request-Id` (the client's when it is
 * a sane token, else a new one) and `X-Generation` (the snippet generation the page was served
 * from, "none" when there is none).
 */
final class Trace
{
    /** The client's X-Request-Id when it is a sane token (it goes into logs and headers), else a new random one. */
    public static function requestId(?string $given): string
    {
        $shared = Shared::get('trace');
        if ($given !== null && preg_match('/\A' . $shared['request_id_pattern'] . '\z/', $given) === 1) {
            return $given;
        }
        return bin2hex(random_bytes($shared['request_id_bytes']));
    }

    /** @return array<string, string> the three headers */
    public static function headers(string $revision, string $requestId, ?int $generation): array
    {
        return [
            'X-Revision' => $revision,
            'X-Request-Id' => $requestId,
            'X-Generation' => $generation === null ? 'none' : (string) $generation,
        ];
    }
}
