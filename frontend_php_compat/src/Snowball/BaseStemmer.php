<?php
declare(strict_types=1);

namespace SnipShop\Compat\Snowball;

/**
 * The runtime of the Snowball stemmers translated from Python's snowballstemmer (the same
 * generated algorithms the Python side runs; tools/snowball_php.py writes the subclasses). A
 * port of snowballstemmer/basestemmer.py: the word is a list of characters, positions count
 * characters. An "among" is [characters' code points, substring index, result, method or null].
 */
abstract class BaseStemmer
{
    /** @var list<string> */
    protected array $current = [];
    protected int $cursor = 0;
    protected int $limit = 0;
    protected int $limit_backward = 0;
    protected int $bra = 0;
    protected int $ket = 0;

    abstract protected function _stem(): bool;

    public function stemWord(string $word): string
    {
        $this->current = mb_str_split($word);
        $this->cursor = 0;
        $this->limit = count($this->current);
        $this->limit_backward = 0;
        $this->bra = $this->cursor;
        $this->ket = $this->limit;
        $this->_stem();
        return implode('', $this->current);
    }

    /** @param array<string, true> $s */
    protected function in_grouping(array $s): bool
    {
        if ($this->cursor >= $this->limit || !isset($s[$this->current[$this->cursor]])) {
            return false;
        }
        $this->cursor++;
        return true;
    }

    /** @param array<string, true> $s */
    protected function go_in_grouping(array $s): bool
    {
        while ($this->cursor < $this->limit) {
            if (!isset($s[$this->current[$this->cursor]])) {
                return true;
            }
            $this->cursor++;
        }
        return false;
    }

    /** @param array<string, true> $s */
    protected function in_grouping_b(array $s): bool
    {
        if ($this->cursor <= $this->limit_backward || !isset($s[$this->current[$this->cursor - 1]])) {
            return false;
        }
        $this->cursor--;
        return true;
    }

    /** @param array<string, true> $s */
    protected function go_in_grouping_b(array $s): bool
    {
        while ($this->cursor > $this->limit_backward) {
            if (!isset($s[$this->current[$this->cursor - 1]])) {
                return true;
            }
            $this->cursor--;
        }
        return false;
    }

    /** @param array<string, true> $s */
    protected function out_grouping(array $s): bool
    {
        if ($this->cursor >= $this->limit) {
            return false;
        }
        if (!isset($s[$this->current[$this->cursor]])) {
            $this->cursor++;
            return true;
        }
        return false;
    }

    /** @param array<string, true> $s */
    protected function go_out_grouping(array $s): bool
    {
        while ($this->cursor < $this->limit) {
            if (isset($s[$this->current[$this->cursor]])) {
                return true;
            }
            $this->cursor++;
        }
        return false;
    }

    /** @param array<string, true> $s */
    protected function out_grouping_b(array $s): bool
    {
        if ($this->cursor <= $this->limit_backward) {
            return false;
        }
        if (!isset($s[$this->current[$this->cursor - 1]])) {
            $this->cursor--;
            return true;
        }
        return false;
    }

    /** @param array<string, true> $s */
    protected function go_out_grouping_b(array $s): bool
    {
        while ($this->cursor > $this->limit_backward) {
            if (isset($s[$this->current[$this->cursor - 1]])) {
                return true;
            }
            $this->cursor--;
        }
        return false;
    }

    protected function eq_s(string $s): bool
    {
        $chars = mb_str_split($s);
        $n = count($chars);
        if ($this->cursor + $n > $this->limit) {
            return false;
        }
        for ($i = 0; $i < $n; $i++) {
            if ($this->current[$this->cursor + $i] !== $chars[$i]) {
                return false;
            }
        }
        $this->cursor += $n;
        return true;
    }

    protected function eq_s_b(string $s): bool
    {
        $chars = mb_str_split($s);
        $n = count($chars);
        if ($this->cursor - $n < $this->limit_backward) {
            return false;
        }
        for ($i = 0; $i < $n; $i++) {
            if ($this->current[$this->cursor - $n + $i] !== $chars[$i]) {
                return false;
            }
        }
        $this->cursor -= $n;
        return true;
    }

    /** @param list<array{0: list<int>, 1: int, 2: int, 3: ?string}> $v */
    protected function find_among(array $v): int
    {
        $i = 0;
        $j = count($v);
        $c = $this->cursor;
        $l = $this->limit;
        $common_i = 0;
        $common_j = 0;
        $first_key_inspected = false;
        while (true) {
            $k = $i + (($j - $i) >> 1);
            $diff = 0;
            $common = min($common_i, $common_j);
            $w = $v[$k];
            for ($i2 = $common; $i2 < count($w[0]); $i2++) {
                if ($c + $common === $l) {
                    $diff = -1;
                    break;
                }
                $diff = mb_ord($this->current[$c + $common]) - $w[0][$i2];
                if ($diff !== 0) {
                    break;
                }
                $common++;
            }
            if ($diff < 0) {
                $j = $k;
                $common_j = $common;
            } else {
                $i = $k;
                $common_i = $common;
            }
            if ($j - $i <= 1) {
                if ($i > 0 || $j === $i || $first_key_inspected) {
                    break;
                }
                $first_key_inspected = true;
            }
        }
        while (true) {
            $w = $v[$i];
            if ($common_i >= count($w[0])) {
                $this->cursor = $c + count($w[0]);
                if ($w[3] === null) {
                    return $w[2];
                }
                if ($this->{$w[3]}()) {
                    $this->cursor = $c + count($w[0]);
                    return $w[2];
                }
            }
            $i = $w[1];
            if ($i < 0) {
                return 0;
            }
        }
    }

    /** @param list<array{0: list<int>, 1: int, 2: int, 3: ?string}> $v */
    protected function find_among_b(array $v): int
    {
        $i = 0;
        $j = count($v);
        $c = $this->cursor;
        $lb = $this->limit_backward;
        $common_i = 0;
        $common_j = 0;
        $first_key_inspected = false;
        while (true) {
            $k = $i + (($j - $i) >> 1);
            $diff = 0;
            $common = min($common_i, $common_j);
            $w = $v[$k];
            for ($i2 = count($w[0]) - 1 - $common; $i2 >= 0; $i2--) {
                if ($c - $common === $lb) {
                    $diff = -1;
                    break;
                }
                $diff = mb_ord($this->current[$c - 1 - $common]) - $w[0][$i2];
                if ($diff !== 0) {
                    break;
                }
                $common++;
            }
            if ($diff < 0) {
                $j = $k;
                $common_j = $common;
            } else {
                $i = $k;
                $common_i = $common;
            }
            if ($j - $i <= 1) {
                if ($i > 0 || $j === $i || $first_key_inspected) {
                    break;
                }
                $first_key_inspected = true;
            }
        }
        while (true) {
            $w = $v[$i];
            if ($common_i >= count($w[0])) {
                $this->cursor = $c - count($w[0]);
                if ($w[3] === null) {
                    return $w[2];
                }
                if ($this->{$w[3]}()) {
                    $this->cursor = $c - count($w[0]);
                    return $w[2];
                }
            }
            $i = $w[1];
            if ($i < 0) {
                return 0;
            }
        }
    }

    protected function replace_s(int $c_bra, int $c_ket, string $s): int
    {
        $chars = $s === '' ? [] : mb_str_split($s);
        $adjustment = count($chars) - ($c_ket - $c_bra);
        array_splice($this->current, $c_bra, $c_ket - $c_bra, $chars);
        $this->limit += $adjustment;
        if ($this->cursor >= $c_ket) {
            $this->cursor += $adjustment;
        } elseif ($this->cursor > $c_bra) {
            $this->cursor = $c_bra;
        }
        return $adjustment;
    }

    protected function slice_from(string $s): bool
    {
        $this->replace_s($this->bra, $this->ket, $s);
        $this->ket = $this->bra + mb_strlen($s);
        return true;
    }

    protected function slice_del(): bool
    {
        return $this->slice_from('');
    }

    protected function insert(int $c_bra, int $c_ket, string $s): void
    {
        $adjustment = $this->replace_s($c_bra, $c_ket, $s);
        if ($c_bra <= $this->bra) {
            $this->bra += $adjustment;
        }
        if ($c_bra <= $this->ket) {
            $this->ket += $adjustment;
        }
    }

    protected function slice_to(): string
    {
        return implode('', array_slice($this->current, $this->bra, $this->ket - $this->bra));
    }
}
