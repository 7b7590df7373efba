package snipshop.analysis;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.IntPredicate;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenizer;
import org.apache.lucene.analysis.ngram.NGramTokenizer;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;

import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.CATENATE_ALL;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.CATENATE_NUMBERS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.CATENATE_WORDS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.GENERATE_NUMBER_PARTS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.GENERATE_WORD_PARTS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.IGNORE_KEYWORDS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.PRESERVE_ORIGINAL;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.SPLIT_ON_CASE_CHANGE;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.SPLIT_ON_NUMERICS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.STEM_ENGLISH_POSSESSIVE;

/** Small factories shared by the plugin's analysis components. */
final class Factories {

    private Factories() {}

    /** A token filter that wraps the stream with {@code wrap}. */
    static TokenFilterFactory filter(String name, Settings s, Function<TokenStream, TokenStream> wrap) {
        return new AbstractTokenFilterFactory(name, s) {
            @Override
            public TokenStream create(TokenStream in) {
                return wrap.apply(in);
            }
        };
    }

    /** A token filter that also applies to keyword normalizers and multi-term queries (prefix, wildcard...). */
    static TokenFilterFactory normalizingFilter(String name, Settings s, Function<TokenStream, TokenStream> wrap,
                                                Function<TokenStream, TokenStream> normalize) {
        return new NormalizingFilter(name, s, wrap, normalize);
    }

    private static final class NormalizingFilter extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
        private final Function<TokenStream, TokenStream> wrap;
        private final Function<TokenStream, TokenStream> normalize;

        NormalizingFilter(String name, Settings s, Function<TokenStream, TokenStream> wrap,
                          Function<TokenStream, TokenStream> normalize) {
            super(name, s);
            this.wrap = wrap;
            this.normalize = normalize;
        }

        @Override
        public TokenStream create(TokenStream in) {
            return wrap.apply(in);
        }

        @Override
        public TokenStream normalize(TokenStream in) {
            return normalize.apply(in);
        }
    }

    /** analysis-common's limit on ngram sizes (index.max_ngram_diff, default 1). */
    static void checkNgramDiff(IndexSettings is, int min, int max) {
        int allowed = is.getMaxNgramDiff();
        if (max - min > allowed) {
            throw new IllegalArgumentException("The difference between max_gram and min_gram in NGram Tokenizer must be "
                + "less than or equal to: [" + allowed + "] but was [" + (max - min) + "]. This limit can be set by "
                + "changing the [" + IndexSettings.MAX_NGRAM_DIFF_SETTING.getKey() + "] index level setting.");
        }
    }

    static int wordDelimiterFlags(Settings s) {
        int flags = 0;
        flags |= flag(s, "generate_word_parts", true, GENERATE_WORD_PARTS);
        flags |= flag(s, "generate_number_parts", true, GENERATE_NUMBER_PARTS);
        flags |= flag(s, "catenate_words", false, CATENATE_WORDS);
        flags |= flag(s, "catenate_numbers", false, CATENATE_NUMBERS);
        flags |= flag(s, "catenate_all", false, CATENATE_ALL);
        flags |= flag(s, "split_on_case_change", true, SPLIT_ON_CASE_CHANGE);
        flags |= flag(s, "preserve_original", false, PRESERVE_ORIGINAL);
        flags |= flag(s, "split_on_numerics", true, SPLIT_ON_NUMERICS);
        flags |= flag(s, "stem_english_possessive", true, STEM_ENGLISH_POSSESSIVE);
        flags |= flag(s, "ignore_keywords", false, IGNORE_KEYWORDS);
        return flags;
    }

    private static int flag(Settings s, String key, boolean dflt, int bit) {
        return s.getAsBoolean(key, dflt) ? bit : 0;
    }

    /** The edge_ngram / ngram tokenizers: min_gram, max_gram (defaults 1, 2) and token_chars. */
    static TokenizerFactory ngramTokenizer(IndexSettings is, String name, Settings s, boolean edge) {
        int min = s.getAsInt("min_gram", 1);
        int max = s.getAsInt("max_gram", 2);
        if (!edge) {
            checkNgramDiff(is, min, max);
        }
        IntPredicate tokenChar = tokenChars(s.getAsList("token_chars"));
        return TokenizerFactory.newFactory(name, () -> {
            if (tokenChar == null) {
                return edge ? new EdgeNGramTokenizer(min, max) : new NGramTokenizer(min, max);
            }
            return edge
                ? new EdgeNGramTokenizer(min, max) {
                    @Override
                    protected boolean isTokenChar(int c) {
                        return tokenChar.test(c);
                    }
                }
                : new NGramTokenizer(min, max) {
                    @Override
                    protected boolean isTokenChar(int c) {
                        return tokenChar.test(c);
                    }
                };
        });
    }

    /** token_chars classes as in analysis-common: letter, digit, whitespace, punctuation, symbol. */
    private static IntPredicate tokenChars(List<String> classes) {
        IntPredicate result = null;
        for (String cls : classes) {
            IntPredicate p = switch (cls.toLowerCase(Locale.ROOT)) {
                case "letter" -> c -> switch (Character.getType(c)) {
                    case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                        Character.MODIFIER_LETTER, Character.OTHER_LETTER -> true;
                    default -> false;
                };
                case "digit" -> c -> Character.getType(c) == Character.DECIMAL_DIGIT_NUMBER;
                case "whitespace" -> Character::isWhitespace;
                case "punctuation" -> c -> switch (Character.getType(c)) {
                    case Character.START_PUNCTUATION, Character.END_PUNCTUATION, Character.OTHER_PUNCTUATION,
                        Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION,
                        Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION -> true;
                    default -> false;
                };
                case "symbol" -> c -> switch (Character.getType(c)) {
                    case Character.CURRENCY_SYMBOL, Character.MATH_SYMBOL, Character.OTHER_SYMBOL,
                        Character.MODIFIER_SYMBOL -> true;
                    default -> false;
                };
                default -> throw new IllegalArgumentException("Unknown token type: '" + cls
                    + "', must be one of [letter, digit, whitespace, punctuation, symbol]");
            };
            result = result == null ? p : result.or(p);
        }
        return result;
    }
}
