package snipshop.analysis;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.elasticsearch.action.search.SearchRequest;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.common.Strings;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.rest.action.RestRefCountedChunkedToXContentListener;
import org.elasticsearch.script.Script;
import org.elasticsearch.script.ScriptService;
import org.elasticsearch.script.ScriptType;
import org.elasticsearch.script.TemplateScript;
import org.elasticsearch.search.builder.SearchSourceBuilder;
import org.elasticsearch.xcontent.XContentParser;
import org.elasticsearch.xcontent.XContentType;

import static org.elasticsearch.rest.RestRequest.Method.GET;
import static org.elasticsearch.rest.RestRequest.Method.POST;

/**
 * The search template API of the lang-mustache module: {@code [GET|POST] [/<index>]/_search/template}
 * with {@code {"id": stored template, "params": {...}}} (or {@code "source"}: an inline template)
 * renders the template and runs it as the body of a search; the answer is the search's. And
 * {@code [GET|POST] /_render/template[/<id>]}: {@code {"template_output": rendered}}, for debugging.
 */
final class SearchTemplateHandler extends BaseRestHandler {

    private final Supplier<ScriptService> scripts;
    private final boolean render;

    SearchTemplateHandler(Supplier<ScriptService> scripts, boolean render) {
        this.scripts = scripts;
        this.render = render;
    }

    @Override
    public String getName() {
        return render ? "snipshop_render_template" : "snipshop_search_template";
    }

    @Override
    public List<Route> routes() {
        if (render) {
            return List.of(
                new Route(GET, "/_render/template"),
                new Route(POST, "/_render/template"),
                new Route(GET, "/_render/template/{id}"),
                new Route(POST, "/_render/template/{id}")
            );
        }
        return List.of(
            new Route(GET, "/_search/template"),
            new Route(POST, "/_search/template"),
            new Route(GET, "/{index}/_search/template"),
            new Route(POST, "/{index}/_search/template")
        );
    }

    @Override
    @SuppressWarnings("unchecked")
    protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) throws IOException {
        String[] indices = Strings.splitStringByCommaToArray(request.param("index"));
        String pathId = request.param("id");
        Map<String, Object> body;
        try (XContentParser parser = request.contentOrSourceParamParser()) {
            body = parser.map();
        }
        Object id = pathId != null ? pathId : body.get("id");
        Object source = body.get("source");
        Map<String, Object> params = (Map<String, Object>) body.getOrDefault("params", Map.of());
        Script script;
        if (id != null) {
            script = new Script(ScriptType.STORED, null, id.toString(), params);
        } else if (source instanceof String s) {
            script = new Script(ScriptType.INLINE, MustacheEngine.NAME, s, params);
        } else if (source instanceof Map<?, ?> m) {
            script = new Script(ScriptType.INLINE, MustacheEngine.NAME, Mustache.Json.write(m), params);
        } else {
            throw new IllegalArgumentException("a search template needs [id] or [source]");
        }
        String rendered = scripts.get().compile(script, TemplateScript.CONTEXT).newInstance(script.getParams()).execute();
        if (render) {
            String answer = "{\"template_output\":" + rendered + "}";
            return channel -> channel.sendResponse(new RestResponse(RestStatus.OK, "application/json", answer));
        }
        SearchSourceBuilder search;
        try (XContentParser parser = XContentType.JSON.xContent().createParser(request.contentParserConfig(), rendered)) {
            search = new SearchSourceBuilder().parseXContent(parser, true, feature -> true);
        }
        SearchRequest searchRequest = new SearchRequest(indices).source(search);
        return channel -> client.search(searchRequest, new RestRefCountedChunkedToXContentListener<>(channel));
    }
}
