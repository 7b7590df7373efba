<?php
declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use SnipShop\Compat\Search\ElasticNodes;

/**
 * Several Elasticsearch nodes in ELASTICSEARCH_URL: a request goes on to the next node when one
 * cannot be reached. A PHP built-in server stands in for the live node (it answers every request
 * with its path as JSON); a port nothing listens on for the dead one.
 */
final class ElasticNodesTest extends TestCase
{
    /** @var resource|null */
    private static $server = null;
    private static string $live = '';

    public static function setUpBeforeClass(): void
    {
        $router = sys_get_temp_dir() . '/snipshop-elastic-nodes-router.php';
        file_put_contents($router, '<?php header("Content-Type: application/json"); echo json_encode(["path" => $_SERVER["REQUEST_URI"]]);');
        $port = self::freePort();
        self::$server = proc_open(
            [PHP_BINARY, '-S', "127.0.0.1:{$port}", $router],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
            $pipes,
        );
        self::$live = "http://127.0.0.1:{$port}";
        $deadline = microtime(true) + 10;
        while (@fsockopen('127.0.0.1', $port) === false) {
            if (microtime(true) > $deadline) {
                throw new RuntimeException('the stand-in server did not start');
            }
            usleep(50_000);
        }
    }

    public static function tearDownAfterClass(): void
    {
        if (self::$server !== null) {
            proc_terminate(self::$server);
            proc_close(self::$server);
        }
    }

    private static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        if ($socket === false) {
            throw new RuntimeException('no free port');
        }
        $port = (int) substr(strrchr((string) stream_socket_get_name($socket, false), ':'), 1);
        fclose($socket);
        return $port;
    }

    public function testTheListIsSplitAndTrimmed(): void
    {
        $nodes = new ElasticNodes(' http://a:9200/, http://b:9200 ,,http://c:9200');
        $this->assertSame(['http://a:9200', 'http://b:9200', 'http://c:9200'], $nodes->urls());
    }

    public function testAnEmptyListIsRefused(): void
    {
        $this->expectException(InvalidArgumentException::class);
        new ElasticNodes(' , ');
    }

    public function testADeadNodeIsPassedOver(): void
    {
        $dead = 'http://127.0.0.1:' . self::freePort();
        $nodes = new ElasticNodes("{$dead}," . self::$live);
        for ($i = 0; $i < 10; $i++) {  // the first node is picked at random: both orders come up
            [$status, $answer] = $nodes->request('POST', "/products/_search/template?n={$i}", '{}');
            $this->assertSame(200, $status);
            $this->assertSame(['path' => "/products/_search/template?n={$i}"], $answer);
        }
    }

    public function testEveryNodeDeadIsAnError(): void
    {
        $nodes = new ElasticNodes('http://127.0.0.1:' . self::freePort() . ',http://127.0.0.1:' . self::freePort());
        $this->expectException(RuntimeException::class);
        $this->expectExceptionMessage('Elasticsearch unreachable');
        $nodes->request('GET', '/_cluster/health', '');
    }
}
