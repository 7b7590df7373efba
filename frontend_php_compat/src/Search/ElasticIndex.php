<?php
declare(strict_types=1);

namespace SnipShop\Compat\Search;

use SnipShop\Compat\Html;
use SnipShop\Compat\Query;
use SnipShop\Compat\Shared;

/**
 * Elasticsearch through its stored search templates (docs/search-sharing.md): the same template
 * ids and params as the Python adapter (search/elastic.py, elastic_params.py), read the same way
 * (elastic_answers.py). php-curl, no client library.
 */
final class ElasticIndex implements SearchIndex
{
    private string $alias;

    private readonly ElasticNodes $nodes;

    /**
     * @param list<string> $locales
     * @param list<string> $currencies
     */
    public function __construct(
        /** ``ELASTICSEARCH_URL``: one node's URL, or several separated by commas (ElasticNodes). */
        string $url,
        string $prefix,
        private readonly array $locales,
        private readonly array $currencies,
        private readonly string $templateDir = '',
        /** Query the canary's alias instead of the live one (docs/canary.md). */
        bool $canary = false,
    ) {
        $this->alias = $canary ? "{$prefix}-products-canary" : "{$prefix}-products";
        $this->nodes = new ElasticNodes($url);
    }

    public function query(Query $query): Result
    {
        $es = Shared::get('elasticsearch');
        $params = ElasticParams::listing($query);
        $listing = $this->search($es['listing'], $params);
        if ($listing === null) {
            return new Result();
        }
        $names = [];
        foreach ($listing['aggregations']['names']['names']['buckets'] ?? [] as $bucket) {
            $name = (string) $bucket['key'];
            if ($name !== 'brand' && empty($query->filters[$name])) {
                $names[] = $name;
            }
        }
        $extra = $names !== [] ? $this->search($es['listing_facets'], [...$params, 'facet_names' => $names]) : null;
        $skus = array_map(static fn ($hit) => (string) $hit['_id'], $listing['hits']['hits'] ?? []);
        return new Result($skus, (int) ($listing['hits']['total']['value'] ?? 0), self::facets($query, $listing, $extra, $names));
    }

    /** @return array<string, true> */
    public function facetNames(): array
    {
        $answer = $this->search(Shared::get('elasticsearch')['facet_names'], new \stdClass());
        $names = ['brand' => true];
        foreach ($answer['aggregations']['names']['names']['buckets'] ?? [] as $bucket) {
            $names[(string) $bucket['key']] = true;
        }
        return $names;
    }

    public function suggest(string $text, string $locale, int $limit = 8): array
    {
        $text = mb_substr(Html::strip($text), 0, 100);
        if ($text === '') {
            return [];
        }
        $limit = min(max($limit, 1), Shared::get('embedded')['max_suggestions']);
        $answer = $this->search(Shared::get('elasticsearch')['suggest'], ElasticParams::suggest($text, $locale, $limit));
        if ($answer === null) {
            return [];
        }
        $out = [];
        foreach ($answer['hits']['hits'] ?? [] as $hit) {
            $names = $hit['_source']['name'] ?? [];
            $name = (string) ($names[$locale] ?? '');
            if ($name === '') {
                $first = reset($names);
                $name = $first === false ? '' : (string) $first;
            }
            $out[] = [(string) $hit['_id'], $name];
        }
        return $out;
    }

    /**
     * Brand first, then attributes by name; facets without values left out (elastic_answers.facets).
     *
     * @param list<string> $extraNames
     */
    public static function facets(Query $q, array $listing, ?array $extra, array $extraNames): array
    {
        $aggs = $listing['aggregations'];
        $sources = [['brand', $aggs['brand']]];
        foreach ($q->filters as $name => $values) {
            $name = (string) $name;
            if ($name !== 'brand' && $values !== []) {
                $sources[] = [$name, $aggs["attr:{$name}"]];
            }
        }
        if ($extra !== null) {
            foreach ($extraNames as $name) {
                $sources[] = [$name, $extra['aggregations']["attr:{$name}"]];
            }
        }
        $found = [];
        foreach ($sources as [$name, $agg]) {
            $values = self::facetValues($q->filters[$name] ?? [], $agg);
            if ($values !== []) {
                $found[$name] = ['name' => $name, 'values' => $values];
            }
        }
        $names = array_values(array_filter(array_map('strval', array_keys($found)), static fn ($n) => $n !== 'brand'));
        sort($names, SORT_STRING);
        if (isset($found['brand'])) {
            array_unshift($names, 'brand');
        }
        return array_map(static fn ($n) => $found[$n], $names);
    }

    /**
     * Selected values always (0 if absent), then the top others, 50 in all; by count, value.
     *
     * @param list<string> $chosen
     * @return list<array{0: string, 1: int, 2: bool}>
     */
    private static function facetValues(array $chosen, array $agg): array
    {
        $agg = $agg['variants'] ?? $agg;
        $agg = $agg['passing'] ?? $agg;
        $count = static fn (array $bucket): int => (int) (isset($bucket['products']) ? $bucket['products']['doc_count'] : $bucket['doc_count']);
        $chosenCounts = [];
        foreach ($agg['chosen']['buckets'] ?? [] as $bucket) {
            $chosenCounts[(string) $bucket['key']] = $count($bucket);
        }
        $counts = [];
        foreach ($chosen as $value) {
            $counts[$value] = $chosenCounts[$value] ?? 0;
        }
        $room = max(Shared::get('query')['max_facet_values'] - count($counts), 0);
        foreach ($agg['top']['buckets'] ?? [] as $bucket) {
            $key = (string) $bucket['key'];
            if ($room > 0 && !array_key_exists($key, $counts)) {
                $counts[$key] = $count($bucket);
                $room--;
            }
        }
        $rows = [];
        foreach ($counts as $value => $n) {
            $rows[] = [(string) $value, $n];
        }
        usort($rows, [Result::class, 'order']);
        $isChosen = array_fill_keys($chosen, true);
        return array_map(static fn ($r) => [$r[0], $r[1], isset($isChosen[$r[0]])], $rows);
    }

    /**
     * A stored template on the live alias; null when no generation is live yet (404). A missing
     * template is stored and the search repeated once.
     */
    private function search(string $templateId, array|\stdClass $params): ?array
    {
        $body = json_encode(['id' => $templateId, 'params' => $params], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
        [$status, $answer] = $this->request('POST', "/{$this->alias}/_search/template", $body);
        if ($status === 404 && self::missingScript($answer)) {
            $this->installTemplates();
            [$status, $answer] = $this->request('POST', "/{$this->alias}/_search/template", $body);
        }
        if ($status === 404) {
            return null;
        }
        if ($status !== 200 || !is_array($answer)) {
            throw new \RuntimeException("Elasticsearch answered {$status}");
        }
        return $answer;
    }

    private static function missingScript(mixed $answer): bool
    {
        $error = is_array($answer) ? ($answer['error'] ?? null) : null;
        return is_array($error) && ($error['type'] ?? '') === 'resource_not_found_exception'
            && str_contains(json_encode($error) ?: '', 'script');
    }

    /** Store every template under its id from search/templates/ (idempotent). */
    private function installTemplates(): void
    {
        foreach (Shared::get('elasticsearch')['templates'] as $id) {
            $source = file_get_contents($this->templateDir . "/{$id}.mustache");
            if ($source === false) {
                throw new \RuntimeException("no template {$id}");
            }
            $body = json_encode(['script' => ['lang' => 'mustache', 'source' => $source]], JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
            [$status] = $this->request('PUT', "/_scripts/{$id}", $body);
            if ($status !== 200) {
                throw new \RuntimeException("storing template {$id} answered {$status}");
            }
        }
    }

    /** @return array{0: int, 1: mixed} status and decoded body */
    private function request(string $method, string $path, string $body): array
    {
        return $this->nodes->request($method, $path, $body);
    }
}
