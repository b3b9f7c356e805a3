package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.FuzzTest;

/** Any REST body is read into its request or refused (a 400), never an exception (a 500). */
class RequestBodiesFuzzTest {

  @FuzzTest(maxDuration = "10s")
  void anyBodyIsReadOrRefused(String body) {
    assertNotNull(RequestBodies.read(body, ConversationRoutes.CreateRequest.class));
    assertNotNull(RequestBodies.read(body, ConversationRoutes.AddMemberRequest.class));
  }
}
