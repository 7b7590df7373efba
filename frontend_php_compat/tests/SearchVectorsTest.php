<?php
declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use SnipShop\Compat\KeyScheme;
use SnipShop\Compat\Query;
use SnipShop\Compat\QueryParser;
use SnipShop\Compat\Search\ElasticParams;
use SnipShop\Compat\Search\EmbeddedIndex;
use SnipShop\Compat\Search\EmbeddedPlan;
use SnipShop\Compat\Search\TextAnalysis;
use SnipShop\Compat\Shared;

/**
 * The PHP builders against tests/fixtures/search_vectors.json, what the Python side builds
 * (docs/search-sharing.md): parsed queries, template params, the embedded script's KEYS and
 * ARGV, the script's SHA1 and the text analysis.
 */
final class SearchVectorsTest extends TestCase
{
    private static function vectors(): array
    {
        return fixture('tests/fixtures/search_vectors.json');
    }

    /** @return iterable<string, array{0: array}> */
    public static function listings(): iterable
    {
        foreach (self::vectors()['elasticsearch']['listings'] as $listing) {
            yield $listing['name'] => [$listing];
        }
    }

    private static function parse(array $listing): Query
    {
        $known = array_fill_keys(self::vectors()['facet_names'], true);
        $request = $listing['request'];
        return QueryParser::parse($request['args'], $request['locale'], $request['currency'], $known, $request['category']);
    }

    /** @dataProvider listings */
    public function testParsedQuery(array $listing): void
    {
        $q = self::parse($listing);
        $expected = $listing['query'];
        $this->assertSame($expected['locale'], $q->locale);
        $this->assertSame($expected['currency'], $q->currency);
        $this->assertSame($expected['text'], $q->text);
        $this->assertSame($expected['category'], $q->category);
        $this->assertSame($expected['filters'], $q->filters);
        $this->assertSame($expected['price_min'], $q->priceMin);
        $this->assertSame($expected['price_max'], $q->priceMax);
        $this->assertSame($expected['in_stock'], $q->inStock);
        $this->assertSame($expected['sort'], $q->sort);
        $this->assertSame($expected['page'], $q->page);
        $this->assertSame($expected['per_page'], $q->perPage);
        $this->assertSame($expected['past_window'], $q->pastWindow);
    }

    /** @dataProvider listings */
    public function testTemplateParams(array $listing): void
    {
        $params = ElasticParams::listing(self::parse($listing));
        $this->assertSame(self::canonical($listing['params']), self::canonical($params));
        $facets = [...$params, 'facet_names' => ['material', 'size']];
        $this->assertSame(self::canonical($listing['facets_params']), self::canonical($facets));
    }

    /** @dataProvider listings */
    public function testEmbeddedCalls(array $listing): void
    {
        $embedded = self::vectors()['embedded'];
        foreach (['embedded', 'embedded_with_variants'] as $part) {
            $expected = $listing[$part];
            $lookup = $expected['lookup'];
            $registry = [];
            foreach ($lookup['registry'] as $name => $values) {
                $registry[$name] = array_fill_keys($values, true);
            }
            $plan = new EmbeddedPlan(self::parse($listing), $registry, $lookup['stems'], $lookup['with_variants'],
                new KeyScheme($embedded['prefix']), $embedded['generation'], $embedded['nonce']);
            $this->assertSame($expected['keys'], $plan->keys, $part);
            $this->assertSame(self::canonical($expected['argv'][0]), self::canonical(json_decode($plan->argv(), true)), $part);
        }
    }

    public function testSuggestParams(): void
    {
        $suggestions = self::vectors()['elasticsearch']['suggestions'];
        $this->assertNotEmpty($suggestions);
        foreach ($suggestions as $s) {
            $text = mb_substr(SnipShop\Compat\Html::strip($s['text']), 0, 100);
            $limit = min(max($s['limit'], 1), Shared::get('embedded')['max_suggestions']);
            $this->assertSame(self::canonical($s['params']), self::canonical(ElasticParams::suggest($text, $s['locale'], $limit)), $s['text']);
        }
    }

    public function testQueryScriptSha(): void
    {
        $embedded = self::vectors()['embedded'];
        $index = new EmbeddedIndex(static fn () => new Redis(), new KeyScheme(), ['en_US'], ['EUR']);
        $this->assertSame($embedded['scripts']['query']['sha1'], sha1($index->script()));
        $this->assertSame($embedded['scripts']['query']['sha1'], Shared::get('embedded')['query_sha1']);
        $files = [];
        foreach ($embedded['scripts']['query']['files'] as $file) {
            $files[] = file_get_contents(repository_root() . '/' . $file);
        }
        $this->assertSame(implode("\n", $files), $index->script());
        $files = array_map(static fn ($f) => 'search/' . $f, Shared::get('embedded')['query_scripts']);
        $this->assertSame($embedded['scripts']['query']['files'], $files);
    }

    public function testTextAnalysis(): void
    {
        $cases = self::vectors()['text_analysis'];
        $this->assertNotEmpty($cases);
        foreach ($cases as $case) {
            $this->assertSame($case['fold'], TextAnalysis::fold($case['text']), $case['text']);
            $this->assertSame($case['name_sort_key'], TextAnalysis::fold($case['text']), $case['text']);
            $this->assertSame($case['words'], TextAnalysis::wordsOf($case['text']), $case['text']);
            $this->assertSame($case['terms'], TextAnalysis::terms($case['text'], $case['locale']), $case['text']);
            $this->assertSame($case['typed_words'], TextAnalysis::typedWords($case['text']), $case['text']);
        }
    }

    /** Objects with their keys sorted (the order of JSON object keys carries no meaning). */
    private static function canonical(mixed $value): mixed
    {
        if (!is_array($value)) {
            return $value;
        }
        if (!array_is_list($value)) {
            ksort($value, SORT_STRING);
        }
        return array_map([self::class, 'canonical'], $value);
    }
}
