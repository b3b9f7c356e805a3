package io.parley.gateway;

import com.typesafe.config.Config;
import java.util.List;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The demo chat page ({@code src/main/resources/web/}): {@code GET /}, {@code /app.js} and {@code
 * /style.css} from the classpath, nothing else. With {@code parley.demo.page = off} the paths do
 * not exist.
 */
public final class DemoRoutes extends AllDirectives {

  private static final String ROOT = "web/";

  // The page talks only to the node that served it and never runs inline script, so a tight
  // policy costs nothing and keeps chat text from ever becoming markup.
  private static final List<HttpHeader> HEADERS =
      List.of(
          RawHeader.create(
              "Content-Security-Policy",
              "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
                  + " img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors"
                  + " 'none'"),
          // Served from the jar: a redeployed node should not leave browsers on the old script.
          RawHeader.create("Cache-Control", "no-cache"),
          RawHeader.create("X-Content-Type-Options", "nosniff"));

  private final boolean enabled;

  public DemoRoutes(boolean enabled) {
    this.enabled = enabled;
  }

  public static DemoRoutes fromConfig(Config config) {
    return new DemoRoutes(config.getBoolean("parley.demo.page"));
  }

  public Route routes() {
    if (!enabled) {
      return reject();
    }
    return respondWithHeaders(
        HEADERS,
        () ->
            concat(
                pathSingleSlash(() -> resource("index.html", ContentTypes.TEXT_HTML_UTF8)),
                path(
                    "app.js",
                    () ->
                        resource(
                            "app.js",
                            MediaTypes.APPLICATION_JAVASCRIPT.toContentType(HttpCharsets.UTF_8))),
                path(
                    "style.css",
                    () ->
                        resource(
                            "style.css", MediaTypes.TEXT_CSS.toContentType(HttpCharsets.UTF_8)))));
  }

  private Route resource(String name, ContentType contentType) {
    return getFromResource(ROOT + name, contentType, DemoRoutes.class.getClassLoader());
  }
}
