<?php
declare(strict_types=1);

namespace SnipShop\Compat;

use SnipShop\Compat\Search\SearchIndex;

/**
 * What the pages of one request share (web/edge/edge_state.py and the request's ``g``): the
 * settings, the key scheme, the snippet reader, the search engine, the read-repair requests,
 * the shopper's context, the cookies to remember and the personalization values.
 */
final class Shop
{
    public ?Context $ctx = null;
    /** @var array<string, string> */
    public array $remember = [];
    /** @var array<string, string> */
    public array $values = [];
    public bool $repairAsked = false;
    /** A 200 with a part "currently unavailable" was served (for the canary's counts). */
    public bool $degraded = false;

    public function __construct(
        public readonly Config $config,
        public readonly KeyScheme $keys,
        public readonly SnippetReader $reader,
        public readonly SearchIndex $search,
        public readonly RepairRequests $repairs,
        public readonly Request $request,
    ) {
    }

    /** The generation this request is served from (the live one, or a running canary's for the
     *  shoppers it serves); MissingSnippet when there is none (Redis lost everything). */
    public function live(): int
    {
        $gen = $this->reader->generation();
        if ($gen === null) {
            throw new MissingSnippet('live generation');
        }
        return $gen;
    }

    /** @param list<array{0: string, 1: string}> $things note what this page missed; true if anything */
    public function askRepair(array $things): bool
    {
        if ($things !== []) {
            $this->repairs->request($things);
            $this->repairAsked = true;
        }
        return $things !== [];
    }

    /** The shopper's locale once the context is known; before, the remembered one (cookie). */
    public function shopperLocale(): string
    {
        if ($this->ctx !== null) {
            return $this->ctx->locale;
        }
        $cookie = $this->request->cookieHeader !== '' ? $this->request->cookie('locale') : null;
        return $cookie !== null && in_array($cookie, $this->config->locales, true) ? $cookie : $this->config->locales[0];
    }

    /** The search engine's answer; any failure but the snippet store's is SearchUnavailable. */
    public function searching(callable $call): mixed
    {
        try {
            return $call($this->search);
        } catch (\RedisException $e) {
            throw $e;
        } catch (\Throwable $e) {
            error_log('search failed: ' . $e->getMessage());
            throw new SearchUnavailable('search failed', 0, $e);
        }
    }
}
