<?php
declare(strict_types=1);

namespace SnipShop\Compat;

use SnipShop\Compat\Search\EmbeddedIndex;
use SnipShop\Compat\Search\ElasticIndex;
use SnipShop\Compat\Search\SearchIndex;

/**
 * The front controller's work: route a request as the Flask edge does (web/edge/app.py and
 * error_pages.py) and answer it. Order as in Flask: the 414 check before anything reads the
 * query, then the shopper's context, then the route; a missing snippet, an unreachable store
 * or search engine is a 503, never a 500; every answer carries the security headers and the
 * revision, request id and generation (Trace).
 */
final class App
{
    private const ROUTES = [
        '#\A/\z#' => 'home',
        '#\A/p/([^/]+)\z#' => 'product',
        '#\A/c/([^/]+)\z#' => 'category',
        '#\A/search\z#' => 'search',
        '#\A/suggest\z#' => 'suggest',
        '#\A/healthz\z#' => 'healthz',
        '#\A/readyz\z#' => 'readyz',
    ];

    public function __construct(private readonly Config $config, private readonly \Closure $connect)
    {
    }

    /** The app on the environment's settings, with a persistent phpredis connection. */
    public static function fromEnvironment(): self
    {
        $config = Config::fromEnvironment();
        return new self($config, static fn () => RedisConnection::open($config->redisUrl));
    }

    public function handle(Request $request): Response
    {
        $started = hrtime(true);
        $connection = null;
        $connect = function () use (&$connection): \Redis {
            return $connection ??= ($this->connect)();
        };
        $keys = new KeyScheme($this->config->keyPrefix);
        $reader = new SnippetReader($connect, $keys);
        [$bucket, $rest] = ShopperBuckets::bucketOf($request->cookieHeader);
        if ($bucket !== null) {  // the pages never see it (a canary's bucket, ShopperBuckets)
            $request = $request->withCookieHeader($rest);
        }
        $drawn = ShopperBuckets::servesPages($request->path) ? ShopperBuckets::assign($reader, $bucket) : null;
        $shop = new Shop($this->config, $keys, $reader, $this->search($connect, $keys, $reader->onCanary),
            new RepairRequests($connect, $keys), $request);
        $response = $this->answer($shop, new Responses($shop), $request);
        if ($drawn !== null) {  // the response is then that shopper's: no shared cache may keep it
            $response->cookies[] = ShopperBuckets::cookie($drawn);
            if (str_starts_with($response->headers['Cache-Control'] ?? '', 'public')) {
                $response->headers['Cache-Control'] = 'private, no-cache';
            }
        }
        $counted = $reader->countedGeneration();
        if ($counted !== null) {
            CanaryCounts::add($connect, $keys, $counted, $response->status, (hrtime(true) - $started) / 1e9,
                $shop->degraded, $reader->misses);
        }
        foreach (Responses::securityHeaders($this->config->imageBaseUrl) as $name => $value) {
            $response->headers[$name] = $value;
        }
        $trace = Trace::headers($this->config->revision, Trace::requestId($request->requestId), $shop->reader->servedGeneration());
        foreach ($trace as $name => $value) {
            $response->headers[$name] = $value;
        }
        return $response;
    }

    private function search(\Closure $connect, KeyScheme $keys, bool $canary): SearchIndex
    {
        if ($this->config->elasticsearchUrl !== null) {
            return new ElasticIndex($this->config->elasticsearchUrl, $this->config->keyPrefix, $this->config->locales, $this->config->currencies, self::scriptDir() . '/templates', $canary);
        }
        return new EmbeddedIndex($connect, $keys, $this->config->locales, $this->config->currencies, $canary);
    }

    /** The project's search/ directory (the Elasticsearch templates are in its templates/). */
    public static function scriptDir(): string
    {
        return dirname(__DIR__, 2) . '/search';
    }

    /** The edge's own static files (the stylesheet): nginx serves them itself, `php -S` here. */
    public static function staticDir(): string
    {
        return dirname(__DIR__, 2) . '/web/edge/static';
    }

    /**
     * Werkzeug merges repeated slashes inside a path that then names a route, and redirects
     * there (308) with its own page; the query string rides along as sent.
     */
    private function mergedSlashes(Request $request): ?Response
    {
        if (!str_contains($request->rawPath, '//')) {
            return null;
        }
        $merged = (string) preg_replace('#/{2,}#', '/', $request->rawPath);
        $routed = false;
        foreach (array_keys(self::ROUTES) as $pattern) {
            $routed = $routed || preg_match($pattern, rawurldecode($merged)) === 1;
        }
        if (!$routed) {
            return null;
        }
        $location = "http://{$request->host}{$merged}" . ($request->queryString !== '' ? "?{$request->queryString}" : '');
        $shown = Html::escape($location);
        $response = new Response("<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
            . "<p>You should be redirected automatically to the target URL: <a href=\"{$shown}\">{$shown}</a>. If not, click the link.\n",
            308, Shared::get('responses')['html']);
        $response->headers['Location'] = $location;
        return $response;
    }

    private function context(Shop $shop, Request $request): void
    {
        [$shop->ctx, $shop->remember] = Context::resolve($request, $this->config->locales, $this->config->currencies);
        $shop->values = Personalize::valuesFrom($request->cookieHeader !== '' ? $request->cookies() : [],
            $shop->ctx->currency, $this->config->imageBaseUrl);
    }

    private function answer(Shop $shop, Responses $responses, Request $request): Response
    {
        if (strlen($request->queryString) > Shared::get('query')['max_query_string']) {
            return $responses->tooLong();
        }
        $this->context($shop, $request);
        try {
            return $this->route($shop, $responses, $request);
        } catch (MissingSnippet $e) {
            return $responses->missing($e);
        } catch (SearchUnavailable) {
            return $responses->unavailable('unavailable_search');
        } catch (\RedisException) {
            return $responses->unavailable('unavailable_store');
        }
    }

    private function route(Shop $shop, Responses $responses, Request $request): Response
    {
        $redirect = $this->mergedSlashes($request);
        if ($redirect !== null) {
            return $redirect;
        }
        if (str_starts_with($request->path, '/static/')) {
            $file = StaticFiles::response($request->path, self::staticDir());
            if ($file !== null) {
                return $file;
            }
        }
        foreach (self::ROUTES as $pattern => $name) {
            if (preg_match($pattern, $request->path, $m) !== 1) {
                continue;
            }
            if ($request->method === 'OPTIONS') {
                $response = new Response('', 200, Shared::get('responses')['html']);
                $response->headers['Allow'] = 'HEAD, OPTIONS, GET';
                return $response;
            }
            if ($request->method !== 'GET' && $request->method !== 'HEAD') {
                return $responses->wrongMethod();
            }
            $pages = new ShopperPages($shop, $responses);
            return match ($name) {
                'home' => $pages->home(),
                'product' => $pages->product($m[1]),
                'category' => $pages->category($m[1]),
                'search' => $pages->search(),
                'suggest' => $pages->suggest(),
                'healthz' => Responses::json(['status' => 'ok']),
                'readyz' => self::readiness($shop->reader),
            };
        }
        return $responses->notFound();
    }

    /**
     * ``GET /readyz`` as the edge answers it (web/edge/readiness.py): ready when the snippet
     * store answers and names a live generation, else 503 with the reason; never cached.
     */
    private static function readiness(SnippetReader $reader): Response
    {
        try {
            $generation = $reader->liveGeneration();
        } catch (\RedisException $error) {
            return self::notReady('the snippet store is unreachable: ' . get_class($error));
        }
        if ($generation === null) {
            return self::notReady('no live generation: run `projector rebuild`');
        }
        $response = Responses::json(['generation' => $generation, 'status' => 'ready']);
        $response->headers['Cache-Control'] = 'no-store';
        return $response;
    }

    private static function notReady(string $reason): Response
    {
        $response = Responses::json(['reason' => $reason, 'status' => 'unavailable']);
        $response->status = 503;
        $response->headers['Cache-Control'] = 'no-store';
        return $response;
    }
}
