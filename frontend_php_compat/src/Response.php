<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/** A response: status, headers (name => value, Set-Cookie a list) and body. */
final class Response
{
    /** @var array<string, string> */
    public array $headers = [];
    /** @var list<string> */
    public array $cookies = [];

    public function __construct(public string $body = '', public int $status = 200, ?string $contentType = null)
    {
        if ($contentType !== null) {
            $this->headers['Content-Type'] = $contentType;
        }
    }

    /** Werkzeug's set_cookie with max_age, SameSite=Lax and HttpOnly (web/edge/context.py). */
    public function setCookie(string $name, string $value, int $maxAge): void
    {
        $expires = gmdate('D, d M Y H:i:s', time() + $maxAge) . ' GMT';
        $this->cookies[] = "{$name}={$value}; Expires={$expires}; Max-Age={$maxAge}; HttpOnly; Path=/; SameSite=Lax";
    }

    /** Send it through PHP's SAPI; no body for HEAD, 304 and the like. */
    public function send(string $method): void
    {
        http_response_code($this->status);
        header_remove('X-Powered-By');
        foreach ($this->headers as $name => $value) {
            header("{$name}: {$value}");
        }
        foreach ($this->cookies as $cookie) {
            header("Set-Cookie: {$cookie}", false);
        }
        if ($this->status === 304) {
            return;
        }
        header('Content-Length: ' . strlen($this->body));
        if ($method !== 'HEAD') {
            echo $this->body;
        }
    }
}
