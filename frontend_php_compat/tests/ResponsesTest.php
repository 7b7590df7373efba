<?php
declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use SnipShop\Compat\Pages;
use SnipShop\Compat\RepairRequests;
use SnipShop\Compat\Responses;

/** Validators, JSON and degraded parts as the edge writes them. */
final class ResponsesTest extends TestCase
{
    public function testEtagListsLikeWerkzeug(): void
    {
        $this->assertSame([['a', 'b'], ['c'], false], Responses::parseEtags('"a", "b" ,W/"c"'));
        $this->assertSame([[], [], true], Responses::parseEtags('"a", *'));
        $this->assertSame([['x'], [], false], Responses::parseEtags('x'));
        $this->assertSame([[], [], false], Responses::parseEtags(''));
    }

    public function testJsonLikeFlasksJsonify(): void
    {
        $response = Responses::json([['url' => '/p/A', 'sku' => 'A', 'name' => "Crème \"x\" </b>\x7f"]]);
        $this->assertSame('[{"name":"Cr\u00e8me \"x\" </b>\u007f","sku":"A","url":"/p/A"}]' . "\n", $response->body);
        $this->assertSame('application/json', $response->headers['Content-Type']);
    }

    public function testSecurityHeadersAllowTheImageOrigin(): void
    {
        $csp = Responses::securityHeaders('https://img.example.com:8443/catalog')['Content-Security-Policy'];
        $this->assertStringContainsString("img-src 'self' data: https: https://img.example.com:8443;", $csp);
        $this->assertStringContainsString("img-src 'self' data: https:;", Responses::securityHeaders('/media')['Content-Security-Policy']);
    }

    public function testDegradedPartsInTheShoppersLanguage(): void
    {
        [$crumb, $price, $avail] = RepairRequests::degradedParts('de_DE', null, null, null, null);
        $this->assertSame('', $crumb);
        $this->assertSame('<p class="price unavailable">Preis derzeit nicht verfügbar</p>', Pages::parts($price)[0]);
        $this->assertSame('<p class="availability unavailable">Verfügbarkeit derzeit unbekannt</p>', Pages::parts($avail)[0]);
        [, $kept] = RepairRequests::degradedParts('en_US', null, null, "1\noffer", 'x');
        $this->assertNull($kept);  // a live offer shows instead of the missing price
    }

    public function testRepairThingsOfAProductPage(): void
    {
        $raw = [null, "3\ntitle\x1ehtml", null, "3\np", null, "3\na", "3\nld", null];
        $this->assertSame([['navigation', '_'], ['product', 'MB01'], ['labels', '_']], RepairRequests::productPageMisses('MB01', $raw));
        $gone = [$raw[0], "3\n", null, null, null, null, null, "2\n{}"];
        $this->assertSame([['navigation', '_']], RepairRequests::productPageMisses('MB01', $gone));
        $this->assertTrue(RepairRequests::unknownProduct([null, null, null, null, null, null, null, null]));
    }
}
