<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * Which generation a shopper is served while a canary runs, as web/edge/shopper_buckets.py
 * decides it: the bucket 0-99 in the `bucket` cookie, below the canary's percent the canary's
 * generation; without a valid one a random bucket, offered in a cookie for a year (only while a
 * canary runs). The bucket cookie is taken out of the request the pages see. The cookie's name
 * and the paths that serve no pages come from the shared tables; the pattern below reads the
 * cookie `bucket` with a value of one or two digits, as the edge's does.
 */
final class ShopperBuckets
{

    /** @return array{0: ?int, 1: string} the bucket (null: none valid) and the Cookie header without it */
    public static function bucketOf(string $cookieHeader): array
    {
        if ($cookieHeader === '' || preg_match('/(?:^|;)\s*bucket=(\d{1,2})\s*(?=;|$)/', $cookieHeader, $m, PREG_OFFSET_CAPTURE) !== 1) {
            return [null, $cookieHeader];
        }
        $start = $m[0][1];
        $rest = substr($cookieHeader, 0, $start) . substr($cookieHeader, $start + strlen($m[0][0]));
        return [(int) $m[1][0], trim(trim(trim($rest), ';'))];
    }

    public static function servesPages(string $path): bool
    {
        foreach (Shared::get('canary')['not_pages'] as $prefix) {
            if (str_starts_with($path, $prefix)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Choose the generation of this request (SnippetReader::assign); return the bucket drawn for a
     * shopper without one (to offer in a cookie), else null. A store that does not answer
     * chooses nothing: the pages say so themselves.
     */
    public static function assign(SnippetReader $reader, ?int $bucket): ?int
    {
        try {
            [$live, $canary] = $reader->pointers();
        } catch (\RedisException) {
            return null;
        }
        if ($live === null) {
            return null;
        }
        if ($canary === null || $canary['generation'] === $live) {
            $reader->assign($live, false);
            return null;
        }
        $drawn = $bucket === null ? random_int(0, Shared::get('canary')['buckets'] - 1) : null;
        $bucket ??= $drawn;
        $onCanary = $bucket < $canary['percent'];
        $reader->assign($onCanary ? $canary['generation'] : $live, $onCanary);
        return $drawn;
    }

    /** The Set-Cookie value the edge sends (web/edge/shopper_buckets.py set_cookie_header). */
    public static function cookie(int $bucket): string
    {
        $shared = Shared::get('canary');
        return "{$shared['cookie']}={$bucket}; Max-Age={$shared['cookie_max_age']}; Path=/; SameSite=Lax; HttpOnly";
    }
}
