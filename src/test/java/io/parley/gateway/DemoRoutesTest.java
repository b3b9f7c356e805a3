package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.testing.RouteServer;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class DemoRoutesTest {

  @Test
  void servesThePageItsScriptAndItsStyles() {
    try (RouteServer server = RouteServer.start(new DemoRoutes(true).routes())) {
      HttpResponse<String> page = server.get("/");
      assertEquals(200, page.statusCode());
      assertEquals("text/html; charset=UTF-8", contentType(page));
      assertTrue(page.body().contains("<script src=\"/app.js\""), page::body);
      assertTrue(page.body().contains("data-testid=\"signin\""), page::body);
      assertTrue(
          page.headers().firstValue("Content-Security-Policy").orElse("").contains("'self'"));

      HttpResponse<String> script = server.get("/app.js");
      assertEquals(200, script.statusCode());
      assertEquals("application/javascript; charset=UTF-8", contentType(script));
      assertTrue(script.body().contains("crypto.randomUUID()"));

      HttpResponse<String> styles = server.get("/style.css");
      assertEquals(200, styles.statusCode());
      assertEquals("text/css; charset=UTF-8", contentType(styles));
    }
  }

  @Test
  void servesNothingElse() {
    try (RouteServer server = RouteServer.start(new DemoRoutes(true).routes())) {
      assertEquals(404, server.get("/index.html").statusCode());
      assertEquals(404, server.get("/web/app.js").statusCode());
      assertEquals(404, server.get("/../logback.xml").statusCode());
      assertEquals(405, server.post("/", "{}").statusCode());
    }
  }

  @Test
  void offMeansNoPage() {
    try (RouteServer server = RouteServer.start(new DemoRoutes(false).routes())) {
      assertEquals(404, server.get("/").statusCode());
      assertEquals(404, server.get("/app.js").statusCode());
    }
  }

  private static String contentType(HttpResponse<String> response) {
    return response.headers().firstValue("Content-Type").orElse("");
  }
}
