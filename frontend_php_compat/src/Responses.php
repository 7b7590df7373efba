<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * How every shopper page is answered (web/edge/page_responses.py): caching headers,
 * personalization, ETag/304, and the pages the front end writes itself (404, 503, 414).
 */
final class Responses
{
    public function __construct(private readonly Shop $shop)
    {
    }

    /** The security headers, images allowed from the image server's origin and https URLs. */
    public static function securityHeaders(string $imageBaseUrl): array
    {
        $headers = Shared::get('responses')['security_headers'];
        $sources = "'self' data: https:";
        if (preg_match('#^https?://[^/]+#', $imageBaseUrl, $m) === 1) {
            $sources .= ' ' . $m[0];
        }
        $headers['Content-Security-Policy'] = str_replace("img-src 'self' data:", "img-src {$sources}",
            $headers['Content-Security-Policy']);
        return $headers;
    }

    /** The response of a page whose frame came from frame() (already filled). */
    public function html(string $body, int $status = 200, bool $store = true): Response
    {
        $shop = $this->shop;
        $shared = Shared::get('responses');
        $response = new Response(Personalize::fill($body, $shop->values), $status, $shared['html']);
        $this->rememberChoices($response);
        $response->headers['Vary'] = 'Cookie';
        if (!$store) {
            $response->headers['Cache-Control'] = 'no-store';
            $shop->degraded = $status === 200;
        } elseif (Personalize::isPersonal($shop->values) || $shop->remember !== [] || $status !== 200) {
            $response->headers['Cache-Control'] = 'private, no-cache';
        } else {
            $response->headers['Cache-Control'] = $shared['public'];
            $etag = sha1($response->body);
            $response->headers['ETag'] = '"' . $etag . '"';
            if ($shop->request->ifNoneMatch !== null) {
                $this->makeConditional($response, $etag);
            }
        }
        return $response;
    }

    public function rememberChoices(Response $response): void
    {
        foreach ($this->shop->remember as $name => $value) {
            $response->setCookie($name, $value, Shared::get('responses')['cookie_max_age']);
        }
    }

    /** Werkzeug's make_conditional for an ETag: 304 when If-None-Match holds it (weakly). */
    private function makeConditional(Response $response, string $etag): void
    {
        $request = $this->shop->request;
        $response->headers['Date'] = gmdate('D, d M Y H:i:s') . ' GMT';
        [$strong, $weak, $star] = self::parseEtags($request->ifNoneMatch ?? '');
        $unmodified = false;
        if ($strong !== [] || $weak !== [] || $star) {
            $unmodified = $star || in_array($etag, $strong, true) || in_array($etag, $weak, true);
        }
        [$mStrong, $mWeak, $mStar] = self::parseEtags($request->ifMatch ?? '');
        if ($mStrong !== [] || $mWeak !== [] || $mStar) {
            $unmodified = !($mStar || in_array($etag, $mStrong, true));
        }
        if ($unmodified) {
            $response->status = ($mStrong !== [] || $mWeak !== [] || $mStar) ? 412 : 304;
            if ($response->status === 304) {
                unset($response->headers['Content-Type']);
                $response->body = '';
            }
        }
    }

    /** @return array{0: list<string>, 1: list<string>, 2: bool} strong tags, weak tags, "*" */
    public static function parseEtags(string $value): array
    {
        $strong = [];
        $weak = [];
        $pos = 0;
        $end = strlen($value);
        while ($pos < $end) {
            if (preg_match('/\G([Ww]\/)?(?:"(.*?)"|(.*?))(?:\s*,\s*|$)/', $value, $m, 0, $pos) !== 1) {
                break;
            }
            $raw = $m[3] ?? '';
            if ($raw === '*') {
                return [[], [], true];
            }
            if (($m[2] ?? '') !== '') {
                $raw = $m[2];
            }
            if (($m[1] ?? '') !== '') {
                $weak[] = $raw;
            } else {
                $strong[] = $raw;
            }
            if (strlen($m[0]) === 0) {
                break;
            }
            $pos += strlen($m[0]);
        }
        return [$strong, $weak, false];
    }

    /** The page frame, its personalization variables filled for this shopper. */
    public function frame(?string $raw): Frame
    {
        return Personalize::frame(Pages::frameOf($raw), $this->shop->values);
    }

    /** 503 in the shopper's language; ``$reason`` names the message. */
    public function unavailable(string $reason, ?string $retryAfter = null): Response
    {
        $locale = $this->shop->shopperLocale();
        $t = I18n::messages($locale);
        $response = $this->html(Pages::barePage($t['unavailable'], $t[$reason], $locale), 503);
        $response->headers['Retry-After'] = $retryAfter ?? Shared::get('responses')['retry_after'];
        return $response;
    }

    /** 503 while a page's snippets are being restored (read-repair). */
    public function repairing(): Response
    {
        return $this->unavailable('unavailable_restoring', Shared::get('responses')['retry_after_repair']);
    }

    /** The 404 page in the shop's frame. */
    public function notFound(?Frame $frame = null, bool $store = true): Response
    {
        $shop = $this->shop;
        if ($frame === null) {
            $frame = $this->frame($shop->reader->fetch([$shop->keys->snippet($shop->live(), 'frame', $shop->ctx)])[0]);
        }
        $t = I18n::messages($shop->ctx->locale);
        return $this->html(Pages::messagePage($frame, $t['not_found'], $t['not_found_text'], $t['back_home']), 404, $store);
    }

    /** 414 without reading the parameters (nor the context they would choose). */
    public function tooLong(): Response
    {
        $locale = $this->shop->shopperLocale();
        $t = I18n::messages($locale);
        $limit = Shared::get('query')['max_query_string'];
        $body = Pages::barePage($t['too_long'], I18n::format($t['too_long_text'], ['limit' => $limit]), $locale);
        $response = new Response($body, 414, Shared::get('responses')['html']);
        $response->headers['Cache-Control'] = 'no-store';
        return $response;
    }

    public function wrongMethod(): Response
    {
        $locale = $this->shop->shopperLocale();
        $t = I18n::messages($locale);
        return $this->html(Pages::barePage($t['method_not_allowed'], $t['method_not_allowed_text'], $locale), 405);
    }

    /** A page that cannot be built at all: ask for repair once, 503 "being prepared". */
    public function missing(MissingSnippet $error): Response
    {
        if (!$this->shop->repairAsked) {
            $this->shop->askRepair(RepairRequests::forMissing($error->getMessage()));
        }
        return $this->unavailable('unavailable_preparing', Shared::get('responses')['retry_after_repair']);
    }

    /** JSON as Flask's jsonify writes it: sorted keys, compact, ASCII only, a final newline. */
    public static function json(mixed $data): Response
    {
        $text = str_replace("\x7f", "\\u007f", json_encode(self::sortKeys($data), JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR)) . "\n";
        return new Response($text, 200, 'application/json');
    }

    private static function sortKeys(mixed $data): mixed
    {
        if (!is_array($data)) {
            return $data;
        }
        if (!array_is_list($data)) {
            ksort($data, SORT_STRING);
        }
        return array_map([self::class, 'sortKeys'], $data);
    }
}
