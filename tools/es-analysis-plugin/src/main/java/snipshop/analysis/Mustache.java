package snipshop.analysis;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The mustache templates of Elasticsearch's search templates, as the lang-mustache module renders
 * them: {@code {{name}}} (JSON-escaped, the module's default content type), {@code {{{name}}}} and
 * {@code {{&name}}} (raw), sections {@code {{#name}}...{{/name}}} (false, null, "" and empty lists
 * render nothing; a list renders once per element; anything else once, as the innermost scope),
 * inverted sections {@code {{^name}}}, dotted names, {@code {{.}}}, comments, and the module's
 * functions {@code {{#toJson}}name{{/toJson}}} and {@code {{#join}}name{{/join}}}. Partials and
 * delimiter changes are not supported (a template using them fails to compile).
 */
final class Mustache {

    private interface Node {
        void render(Deque<Object> scopes, StringBuilder out);
    }

    private final List<Node> nodes;

    private Mustache(List<Node> nodes) {
        this.nodes = nodes;
    }

    static Mustache compile(String template) {
        Parser parser = new Parser(template);
        List<Node> nodes = parser.parse(null);
        return new Mustache(nodes);
    }

    String render(Map<String, Object> params) {
        Deque<Object> scopes = new ArrayDeque<>();
        scopes.push(params == null ? Map.of() : params);
        StringBuilder out = new StringBuilder();
        for (Node n : nodes) {
            n.render(scopes, out);
        }
        return out.toString();
    }

    // -- parsing ---------------------------------------------------------------------------------

    private static final class Parser {
        private final String text;
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        /** Nodes up to the closing tag of {@code section} (null: the end of the text). */
        List<Node> parse(String section) {
            List<Node> nodes = new ArrayList<>();
            while (pos < text.length()) {
                int open = text.indexOf("{{", pos);
                if (open < 0) {
                    nodes.add(literal(text.substring(pos)));
                    pos = text.length();
                    break;
                }
                if (open > pos) {
                    nodes.add(literal(text.substring(pos, open)));
                }
                boolean triple = text.startsWith("{{{", open);
                String closer = triple ? "}}}" : "}}";
                int close = text.indexOf(closer, open + (triple ? 3 : 2));
                if (close < 0) {
                    throw new IllegalArgumentException("unclosed tag at character " + open);
                }
                String tag = text.substring(open + (triple ? 3 : 2), close).trim();
                pos = close + closer.length();
                if (triple) {
                    nodes.add(variable(tag, false));
                    continue;
                }
                char kind = tag.isEmpty() ? ' ' : tag.charAt(0);
                String name = tag.length() > 1 ? tag.substring(1).trim() : "";
                switch (kind) {
                    case '!' -> { }
                    case '&' -> nodes.add(variable(name, false));
                    case '#' -> nodes.add(section(name, false));
                    case '^' -> nodes.add(section(name, true));
                    case '/' -> {
                        if (!name.equals(section)) {
                            throw new IllegalArgumentException("unexpected closing tag {{/" + name + "}}");
                        }
                        return nodes;
                    }
                    case '>', '=', '<', '$' -> throw new IllegalArgumentException("unsupported tag {{" + tag + "}}");
                    default -> nodes.add(variable(tag, true));
                }
            }
            if (section != null) {
                throw new IllegalArgumentException("section {{#" + section + "}} is not closed");
            }
            return nodes;
        }

        private Node section(String name, boolean inverted) {
            if (!inverted && (name.equals("toJson") || name.equals("join"))) {
                int end = text.indexOf("{{/" + name + "}}", pos);
                if (end < 0) {
                    throw new IllegalArgumentException("section {{#" + name + "}} is not closed");
                }
                String variable = text.substring(pos, end).trim();
                pos = end + name.length() + 5;
                boolean json = name.equals("toJson");
                return (scopes, out) -> {
                    Object value = lookup(variable, scopes);
                    out.append(json ? Json.write(value) : join(value));
                };
            }
            List<Node> body = parse(name);
            return (scopes, out) -> {
                Object value = lookup(name, scopes);
                if (inverted) {
                    if (!truthy(value)) {
                        for (Node n : body) {
                            n.render(scopes, out);
                        }
                    }
                    return;
                }
                if (!truthy(value)) {
                    return;
                }
                Iterable<?> items = value instanceof Collection<?> c ? c : List.of(value);
                for (Object item : items) {
                    scopes.push(item);
                    try {
                        for (Node n : body) {
                            n.render(scopes, out);
                        }
                    } finally {
                        scopes.pop();
                    }
                }
            };
        }
    }

    private static Node literal(String s) {
        return (scopes, out) -> out.append(s);
    }

    private static Node variable(String name, boolean escape) {
        return (scopes, out) -> {
            Object value = lookup(name, scopes);
            if (value == null) {
                return;
            }
            String s = value.toString();
            out.append(escape ? Json.escape(s) : s);
        };
    }

    // -- values ----------------------------------------------------------------------------------

    private static boolean truthy(Object value) {
        if (value == null) {
            return false;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        if (value instanceof String s) {
            return !s.isEmpty();
        }
        if (value instanceof Collection<?> c) {
            return !c.isEmpty();
        }
        return true;
    }

    /** A name in the innermost scope that has its first part, then its other parts inside. */
    static Object lookup(String name, Deque<Object> scopes) {
        if (name.equals(".")) {
            return scopes.peek();
        }
        String[] parts = name.split("\\.");
        Object value = null;
        boolean found = false;
        for (Iterator<Object> it = scopes.iterator(); it.hasNext() && !found; ) {
            Object scope = it.next();
            if (scope instanceof Map<?, ?> m && m.containsKey(parts[0])) {
                value = m.get(parts[0]);
                found = true;
            }
        }
        for (int i = 1; i < parts.length && value != null; i++) {
            value = child(value, parts[i]);
        }
        return value;
    }

    private static Object child(Object value, String part) {
        if (value instanceof Map<?, ?> m) {
            return m.get(part);
        }
        if (value instanceof List<?> l) {
            if (part.equals("size")) {
                return l.size();
            }
            try {
                int i = Integer.parseInt(part);
                return i >= 0 && i < l.size() ? l.get(i) : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    private static String join(Object value) {
        if (value instanceof Collection<?> c) {
            StringBuilder sb = new StringBuilder();
            for (Object o : c) {
                if (sb.length() > 0) {
                    sb.append(',');
                }
                sb.append(o);
            }
            return sb.toString();
        }
        return value == null ? "" : value.toString();
    }

    /** JSON text of parameter values (maps, lists, strings, numbers, booleans, null). */
    static final class Json {
        private Json() {}

        static String write(Object value) {
            StringBuilder sb = new StringBuilder();
            write(value, sb);
            return sb.toString();
        }

        private static void write(Object value, StringBuilder sb) {
            if (value == null) {
                sb.append("null");
            } else if (value instanceof Map<?, ?> m) {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) {
                        sb.append(',');
                    }
                    first = false;
                    sb.append('"').append(escape(String.valueOf(e.getKey()))).append("\":");
                    write(e.getValue(), sb);
                }
                sb.append('}');
            } else if (value instanceof Collection<?> c) {
                sb.append('[');
                boolean first = true;
                for (Object o : c) {
                    if (!first) {
                        sb.append(',');
                    }
                    first = false;
                    write(o, sb);
                }
                sb.append(']');
            } else if (value instanceof Number || value instanceof Boolean) {
                sb.append(value);
            } else {
                sb.append('"').append(escape(value.toString())).append('"');
            }
        }

        static String escape(String s) {
            StringBuilder sb = new StringBuilder(s.length() + 8);
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            return sb.toString();
        }
    }
}
