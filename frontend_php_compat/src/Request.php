<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * One request as the edge's Werkzeug sees it: the path, the query parameters (parse_qsl: "&"
 * separated, "+" as space, invalid UTF-8 left percent-encoded, names as sent) and the cookies
 * (no URL decoding, quoted values unslashed). PHP's $_GET and $_COOKIE rename and decode
 * parameters (a dot becomes "_"), so neither is used.
 */
final class Request
{
    /** @var array<string, list<string>>|null */
    private ?array $args = null;
    /** @var array<string, string>|null */
    private ?array $cookies = null;

    public function __construct(
        public readonly string $method,
        public readonly string $path,
        public readonly string $queryString = '',
        public readonly string $cookieHeader = '',
        public readonly ?string $ifNoneMatch = null,
        public readonly ?string $ifMatch = null,
    ) {
    }

    /** @param array<string, mixed> $server */
    public static function fromServer(array $server): self
    {
        $uri = (string) ($server['REQUEST_URI'] ?? '/');
        $path = rawurldecode(explode('?', $uri, 2)[0]);
        return new self(
            strtoupper((string) ($server['REQUEST_METHOD'] ?? 'GET')),
            $path === '' ? '/' : $path,
            (string) ($server['QUERY_STRING'] ?? ''),
            (string) ($server['HTTP_COOKIE'] ?? ''),
            isset($server['HTTP_IF_NONE_MATCH']) ? (string) $server['HTTP_IF_NONE_MATCH'] : null,
            isset($server['HTTP_IF_MATCH']) ? (string) $server['HTTP_IF_MATCH'] : null,
        );
    }

    /** @return array<string, list<string>> every parameter name with its values, in order */
    public function args(): array
    {
        return $this->args ??= self::parseQuery($this->queryString);
    }

    /** The first value of a parameter, or null. */
    public function arg(string $name): ?string
    {
        return $this->args()[$name][0] ?? null;
    }

    public function cookie(string $name): ?string
    {
        $this->cookies ??= self::parseCookies($this->cookieHeader);
        return $this->cookies[$name] ?? null;
    }

    /** @return array<string, string> the first value of each cookie */
    public function cookies(): array
    {
        return $this->cookies ??= self::parseCookies($this->cookieHeader);
    }

    /** @return array<string, list<string>> */
    public static function parseQuery(string $query): array
    {
        $out = [];
        foreach (explode('&', $query) as $field) {
            if ($field === '') {
                continue;
            }
            $pair = explode('=', $field, 2);
            $name = self::unquote(str_replace('+', ' ', $pair[0]));
            $value = self::unquote(str_replace('+', ' ', $pair[1] ?? ''));
            $out[$name][] = $value;
        }
        return $out;
    }

    /** urllib.parse.unquote with Werkzeug's error handler: bytes that are not UTF-8 stay %XX. */
    public static function unquote(string $text): string
    {
        if (!str_contains($text, '%')) {
            return self::requote($text);
        }
        $bytes = preg_replace_callback('/%([0-9A-Fa-f]{2})/', static fn ($m) => chr((int) hexdec($m[1])), $text);
        return self::requote((string) $bytes);
    }

    /** Valid UTF-8 kept, every other byte as %XX (uppercase). */
    private static function requote(string $bytes): string
    {
        if (preg_match('//u', $bytes) === 1) {
            return $bytes;
        }
        $out = '';
        $offset = 0;
        $length = strlen($bytes);
        while ($offset < $length) {
            if (preg_match('/\G(?:[\x00-\x7F]|[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}'
                . '|\xED[\x80-\x9F][\x80-\xBF]|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2})/',
                $bytes, $m, 0, $offset) === 1) {
                $out .= $m[0];
                $offset += strlen($m[0]);
            } else {
                $out .= sprintf('%%%02X', ord($bytes[$offset]));
                $offset++;
            }
        }
        return $out;
    }

    /** @return array<string, string> Werkzeug's parse_cookie, first value of each name */
    public static function parseCookies(string $header): array
    {
        if ($header === '') {
            return [];
        }
        $out = [];
        preg_match_all('/([^=;]*)(?:[ \t\n\r\f\v]*=[ \t\n\r\f\v]*("(?:[^\\\\"]|\\\\.)*"|.*?))?[ \t\n\r\f\v]*;[ \t\n\r\f\v]*/s',
            $header . ';', $matches, PREG_SET_ORDER);
        foreach ($matches as $m) {
            $name = trim($m[1], " \t\n\r\f\v");
            $value = trim($m[2] ?? '', " \t\n\r\f\v");
            if ($name === '') {
                continue;
            }
            if (strlen($value) >= 2 && $value[0] === '"' && $value[-1] === '"') {
                $value = (string) preg_replace_callback('/\\\\([0-3][0-7]{2}|.)/s', static fn ($u) =>
                    strlen($u[1]) === 1 ? $u[1] : chr((int) octdec($u[1])), substr($value, 1, -1));
            }
            $value = mb_scrub($value, 'UTF-8');
            $out[$name] ??= $value;
        }
        return $out;
    }
}
