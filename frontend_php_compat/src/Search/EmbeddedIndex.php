<?php
declare(strict_types=1);

namespace SnipShop\Compat\Search;

use SnipShop\Compat\KeyScheme;
use SnipShop\Compat\Query;
use SnipShop\Compat\Shared;

/**
 * The embedded search index on the snippet Redis (search/embedded.py, docs/search-sharing.md):
 * the same lookups and the same query script, called by SHA, as the Python adapter.
 */
final class EmbeddedIndex implements SearchIndex
{
    /**
     * @param list<string> $locales
     * @param list<string> $currencies
     */
    public function __construct(
        private readonly \Closure $connect,
        private readonly KeyScheme $keys,
        private readonly array $locales,
        private readonly array $currencies,
        /** Read the canary's search pointer instead of the live one (docs/canary.md). */
        private readonly bool $canary = false,
    ) {
    }

    private function pointer(): string
    {
        return $this->canary ? $this->keys->searchCanary() : $this->keys->searchLive();
    }

    /** The store's connection, opened on first use. */
    private function redis(): \Redis
    {
        return ($this->connect)();
    }

    /** The query script's source: the two files joined by a newline (shared/shared.php holds it). */
    public function script(): string
    {
        return Shared::get('embedded')['query_source'];
    }

    public function query(Query $query): Result
    {
        $locale = in_array($query->locale, $this->locales, true) ? $query->locale : $this->locales[0];
        $currency = in_array($query->currency, $this->currencies, true) ? $query->currency : $this->currencies[0];
        $query = $query->inContext($locale, $currency);
        $terms = array_slice(TextAnalysis::terms($query->text, $query->locale), 0, Shared::get('embedded')['max_query_terms']);
        $found = $this->lookup($query, $terms);
        if ($found === null) {
            return new Result();
        }
        [$gen, $registry, $stems, $withVariants] = $found;
        $plan = new EmbeddedPlan($query, $registry, $stems, $withVariants, $this->keys, $gen, bin2hex(random_bytes(6)));
        return $plan->result($this->evalScript($plan->keys, [$plan->argv()]));
    }

    /** @return array<string, true> */
    public function facetNames(): array
    {
        $replies = $this->withLive(fn (\Redis $pipe, int $gen) => $pipe->sMembers($this->keys->searchFacetRegistry($gen)));
        $names = ['brand' => true];
        $sep = Shared::get('embedded')['facet_sep'];
        foreach ($replies !== null ? (array) $replies[1][0] : [] as $member) {
            $names[explode($sep, (string) $member, 2)[0]] = true;
        }
        return $names;
    }

    public function suggest(string $text, string $locale, int $limit = 8): array
    {
        $shared = Shared::get('embedded');
        $candidates = $shared['suggest_candidates'];
        $locale = in_array($locale, $this->locales, true) ? $locale : $this->locales[0];
        $text = mb_substr(\SnipShop\Compat\Html::strip($text), 0, $shared['max_suggest_text']);
        if ($text === '') {
            return [];
        }
        $limit = min(max($limit, 1), $shared['max_suggestions']);
        $skuPrefix = mb_convert_case($text, MB_CASE_FOLD, 'UTF-8');
        $namePrefix = TextAnalysis::fold($text);
        $typed = TextAnalysis::typedWords($text);
        $typed = array_values(array_filter($typed, static function (string $t) use ($typed): bool {
            foreach ($typed as $o) {
                if ($o !== $t && str_starts_with($o, $t)) {
                    return false;
                }
            }
            return true;
        }));
        $longest = '';
        foreach ($typed as $t) {
            if (mb_strlen($t) > mb_strlen($longest)) {
                $longest = $t;
            }
        }
        $replies = $this->withLive(function (\Redis $pipe, int $gen) use ($skuPrefix, $namePrefix, $typed, $longest, $locale, $candidates): void {
            self::lexPrefix($pipe, $this->keys->searchSkuPrefix($gen), $skuPrefix, $candidates);
            if ($typed !== []) {
                self::lexPrefix($pipe, $this->keys->searchNamePrefix($gen, $locale), $namePrefix, $candidates);
                self::lexPrefix($pipe, $this->keys->searchNameWords($gen, $locale), $longest, $candidates);
            }
        });
        if ($replies === null) {
            return [];
        }
        [$gen, $lists] = $replies;
        $group = [];
        foreach ((array) $lists[0] as $member) {
            $sku = self::lexParts((string) $member)[1];
            if (str_starts_with(mb_convert_case($sku, MB_CASE_FOLD, 'UTF-8'), $skuPrefix)) {
                $group[$sku] ??= 0;
            }
        }
        $unsure = [];
        if ($typed !== []) {
            $byName = (array) $lists[1];
            foreach ($byName as $member) {
                [$key, $sku] = self::lexParts((string) $member);
                if (str_starts_with($key, $namePrefix)) {
                    $group[$sku] ??= 1;
                }
            }
            foreach (count($byName) < $candidates ? (array) $lists[2] : [] as $member) {
                [$word, $sku] = self::lexParts((string) $member);
                if (!isset($group[$sku]) && str_starts_with($word, $longest)) {
                    if (count($typed) === 1) {
                        $group[$sku] = 2;
                    } else {
                        $unsure[$sku] = true;
                    }
                }
            }
        }
        $best = static function () use (&$group, $limit): array {
            $skus = array_map('strval', array_keys($group));
            usort($skus, static fn ($a, $b) => ($group[$a] <=> $group[$b]) ?: strcmp($a, $b));
            return array_slice($skus, 0, $limit);
        };
        $fetch = [];
        foreach ([...$best(), ...array_map('strval', array_keys($unsure))] as $sku) {
            $fetch[$sku] = true;
        }
        $fetch = array_map('strval', array_keys($fetch));
        if ($fetch === []) {
            return [];
        }
        $raw = $this->redis()->hMGet($this->keys->searchNames($gen, $locale), $fetch);
        $names = [];
        foreach ($fetch as $sku) {
            $value = $raw[$sku] ?? false;
            $names[$sku] = $value === false || $value === null ? '' : (string) $value;
        }
        foreach (array_keys($unsure) as $sku) {
            if (TextAnalysis::startsWords($typed, $names[(string) $sku])) {
                $group[(string) $sku] = 2;
            }
        }
        return array_map(static fn ($sku) => [$sku, $names[$sku]], $best());
    }

    /**
     * The lookup round trip: the registry, whether there are products with variants, and per
     * term whether its sets exist and the vocabulary words it starts.
     *
     * @param list<array{0: string, 1: string}> $terms
     */
    private function lookup(Query $query, array $terms): ?array
    {
        $expansions = Shared::get('embedded')['max_expansions'];
        $replies = $this->withLive(function (\Redis $pipe, int $gen) use ($query, $terms, $expansions): void {
            $pipe->sMembers($this->keys->searchFacetRegistry($gen));
            $pipe->sCard($this->keys->searchWithVariants($gen));
            foreach ($terms as [, $stem]) {
                $pipe->exists($this->keys->searchTerm($gen, $query->locale, true, $stem), $this->keys->searchTerm($gen, $query->locale, false, $stem));
            }
            foreach ($terms as [$surface]) {
                self::lexPrefix($pipe, $this->keys->searchVocabulary($gen, $query->locale), $surface, $expansions);
            }
        });
        if ($replies === null) {
            return null;
        }
        [$gen, $rest] = $replies;
        $shared = Shared::get('embedded');
        $registry = [];
        foreach ((array) $rest[0] as $member) {
            [$name, $value] = array_pad(explode($shared['facet_sep'], (string) $member, 2), 2, '');
            $registry[$name][$value] = true;
        }
        $withVariants = (int) $rest[1] > 0;
        $n = count($terms);
        $exists = array_map('intval', array_slice($rest, 2, $n));
        $vocabulary = array_slice($rest, 2 + $n, $n);
        $stems = [];
        foreach ($terms as $i => [$surface, $stem]) {
            if ($exists[$i] > 0 || mb_strlen($surface) < $shared['min_prefix']) {
                $stems[] = [$stem];
                continue;
            }
            $expanded = [];
            foreach ((array) $vocabulary[$i] as $word) {
                $parts = explode($shared['lex_sep'], (string) $word, 2);
                $expanded[$parts[1] ?? ''] = true;
            }
            $stems[] = $expanded !== [] ? array_map('strval', array_keys($expanded)) : [$stem];
        }
        return [$gen, $registry, $stems, $withVariants];
    }

    /**
     * ``$reads($pipe, $gen)`` on the live generation in one round trip with the pointer; read
     * again if the pointer moved meanwhile.
     *
     * @return array{0: int, 1: list<mixed>}|null
     */
    private function withLive(callable $reads): ?array
    {
        $live = $this->redis()->get($this->pointer());
        $gen = $live === false ? null : (int) $live;
        for ($attempt = 0; $attempt < 3; $attempt++) {
            if ($gen === null) {
                return null;
            }
            $pipe = $this->redis()->pipeline();
            $pipe->get($this->pointer());
            $reads($pipe, $gen);
            $replies = $pipe->exec();
            $now = array_shift($replies);
            $now = $now === false || $now === null ? null : (int) $now;
            if ($now === $gen) {
                return [$gen, $replies];
            }
            $gen = $now;
        }
        return null;
    }

    /** Members of a score-0 sorted set that start with ``$prefix`` (0xFF ends every UTF-8 run). */
    private static function lexPrefix(\Redis $pipe, string $key, string $prefix, int $limit): void
    {
        $start = '[' . $prefix;
        $pipe->zRangeByLex($key, $start, $start . "\xff", 0, $limit);
    }

    /** @return array{0: string, 1: string} a lex member "text U+0000 SKU" as (text, SKU) */
    private static function lexParts(string $member): array
    {
        $at = strrpos($member, "\x00");
        return $at === false ? ['', $member] : [substr($member, 0, $at), substr($member, $at + 1)];
    }

    /**
     * EVALSHA of the query script; on NOSCRIPT, load it and call again.
     *
     * @param list<string> $keys
     * @param list<string> $args
     */
    private function evalScript(array $keys, array $args): array
    {
        $source = $this->script();
        $sha = Shared::get('embedded')['query_sha1'];
        $this->redis()->clearLastError();
        $reply = $this->redis()->evalSha($sha, [...$keys, ...$args], count($keys));
        if ($reply === false && str_contains((string) $this->redis()->getLastError(), 'NOSCRIPT')) {
            $this->redis()->clearLastError();
            $this->redis()->script('load', $source);
            $reply = $this->redis()->evalSha($sha, [...$keys, ...$args], count($keys));
        }
        if (!is_array($reply)) {
            throw new \RedisException('embedded query failed: ' . $this->redis()->getLastError());
        }
        return $reply;
    }
}
