package io.parley.gateway;

import io.parley.Ids;
import io.parley.Json;
import io.parley.conversation.Conversation;
import io.parley.conversation.ConversationDirectory;
import io.parley.history.HistoryService;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/** The conversation REST calls of protocol.md: decode, ask the conversation, encode. */
public final class ConversationRoutes extends AllDirectives {

  /** {@code POST /api/conversations} body. */
  public record CreateRequest(List<String> members, String title) {}

  /** {@code POST /api/conversations/{id}/members} body. */
  public record AddMemberRequest(String userId) {}

  /** What the routes ask. */
  public record Services(
      ClusterSharding sharding, HistoryService history, ConversationDirectory directory) {}

  private final Services services;
  private final Authentication authentication;
  private final Duration askTimeout;
  private final long maxBodyBytes;
  private final FrameCodec codec = new FrameCodec();

  public ConversationRoutes(
      Services services, Authentication authentication, Duration askTimeout, long maxBodyBytes) {
    this.services = services;
    this.authentication = authentication;
    this.askTimeout = askTimeout;
    this.maxBodyBytes = maxBodyBytes;
  }

  public Route routes() {
    return pathPrefix(
        "api",
        () ->
            pathPrefix(
                "conversations",
                () ->
                    authentication.authenticated(
                        userId ->
                            withSizeLimit(
                                maxBodyBytes,
                                () ->
                                    concat(
                                        pathEnd(
                                            () ->
                                                concat(
                                                    post(
                                                        () ->
                                                            body(
                                                                CreateRequest.class,
                                                                request ->
                                                                    create(userId, request))),
                                                    get(() -> list(userId)))),
                                        path(
                                            PathMatchers.segment(),
                                            id -> get(() -> named(id, () -> info(userId, id)))),
                                        path(
                                            PathMatchers.segment().slash("members"),
                                            id ->
                                                post(
                                                    () ->
                                                        named(
                                                            id,
                                                            () ->
                                                                body(
                                                                    AddMemberRequest.class,
                                                                    request ->
                                                                        addMember(
                                                                            userId, id,
                                                                            request))))),
                                        path(
                                            PathMatchers.segment().slash("messages"),
                                            id ->
                                                get(
                                                    () ->
                                                        named(
                                                            id, () -> messages(userId, id)))))))));
  }

  private Route create(String userId, CreateRequest request) {
    List<String> members = request.members() == null ? List.of() : request.members();
    String conversationId = UUID.randomUUID().toString();
    return answer(
        conversationId,
        StatusCodes.CREATED,
        replyTo -> new Conversation.Create(userId, members, request.title(), replyTo));
  }

  private Route info(String userId, String conversationId) {
    return answer(
        conversationId, StatusCodes.OK, replyTo -> new Conversation.GetInfo(userId, replyTo));
  }

  private Route addMember(String userId, String conversationId, AddMemberRequest request) {
    return answer(
        conversationId,
        StatusCodes.OK,
        replyTo -> new Conversation.AddMember(userId, request.userId(), replyTo));
  }

  private Route list(String userId) {
    return parameterOptional(
        "after",
        after ->
            parameterOptional(
                "limit",
                limit -> {
                  ListQuery.Parsed parsed = ListQuery.parse(after, limit);
                  if (parsed instanceof ListQuery.Parsed.Invalid invalid) {
                    return HttpErrors.complete(ErrorCode.BAD_REQUEST, invalid.message());
                  }
                  CompletionStage<ConversationDirectory.Page> page =
                      parsed instanceof ListQuery.Parsed.Paged paged
                          ? services
                              .directory()
                              .conversationsOf(userId, paged.query().after(), paged.query().limit())
                          : services.directory().conversationsOf(userId);
                  return onComplete(
                      page,
                      result ->
                          result.isFailure()
                              ? HttpErrors.complete(
                                  ErrorCode.UNAVAILABLE,
                                  "the conversation list is unavailable, try again")
                              : complete(StatusCodes.OK, Json.entity(listView(result.get()))));
                }));
  }

  /** protocol.md's {@code conversations}, plus {@code hasMore} and the {@code next} cursor. */
  private static Map<String, Object> listView(ConversationDirectory.Page page) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("conversations", page.conversations());
    view.put("hasMore", page.next().isPresent());
    page.next().ifPresent(next -> view.put("next", next));
    return view;
  }

  private Route messages(String userId, String conversationId) {
    return parameterOptional(
        "afterSeq",
        afterSeq ->
            parameterOptional(
                "beforeSeq",
                beforeSeq ->
                    parameterOptional(
                        "limit",
                        limit -> {
                          PageQuery.Parsed parsed = PageQuery.parse(afterSeq, beforeSeq, limit);
                          if (parsed instanceof PageQuery.Parsed.Invalid invalid) {
                            return HttpErrors.complete(ErrorCode.BAD_REQUEST, invalid.message());
                          }
                          PageQuery query = ((PageQuery.Parsed.Valid) parsed).query();
                          CompletionStage<HistoryService.Answer> page =
                              query.backwards()
                                  ? services
                                      .history()
                                      .before(userId, conversationId, query.seq(), query.limit())
                                  : services
                                      .history()
                                      .after(userId, conversationId, query.seq(), query.limit());
                          return onComplete(
                              page,
                              result -> {
                                if (result.isFailure()) {
                                  return HttpErrors.complete(
                                      ErrorCode.UNAVAILABLE, "history is unavailable, try again");
                                }
                                if (result.get() instanceof HistoryService.Answer.Refused refused) {
                                  return rejected(refused.rejected());
                                }
                                HistoryService.Answer.Found found =
                                    (HistoryService.Answer.Found) result.get();
                                // The body is the `history` frame: {"messages":[…],"hasMore":…}
                                // plus its type and id.
                                return complete(
                                    StatusCodes.OK,
                                    HttpEntities.create(
                                        ContentTypes.APPLICATION_JSON,
                                        codec.encode(ServerFrames.history(conversationId, found))));
                              });
                        })));
  }

  private Route answer(
      String conversationId,
      StatusCode success,
      Function<ActorRef<Conversation.Reply>, Conversation.Command> command) {
    CompletionStage<Conversation.Reply> reply =
        services
            .sharding()
            .entityRefFor(Conversation.ENTITY_KEY, conversationId)
            .ask(command::apply, askTimeout);
    return onComplete(
        reply,
        result -> {
          if (result.isFailure()) {
            return HttpErrors.complete(
                ErrorCode.UNAVAILABLE, "the conversation did not answer in time");
          }
          if (result.get() instanceof Conversation.Rejected rejected) {
            return rejected(rejected);
          }
          return complete(success, Json.entity(view((Conversation.Info) result.get())));
        });
  }

  private static Route rejected(Conversation.Rejected rejected) {
    return HttpErrors.complete(ServerFrames.codeOf(rejected.failure()), rejected.message());
  }

  private static Map<String, Object> view(Conversation.Info info) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("conversationId", info.conversationId());
    view.put("members", info.members());
    if (info.title() != null) {
      view.put("title", info.title());
    }
    view.put("lastSeq", info.lastSeq());
    view.put("readSeq", info.readSeq());
    return view;
  }

  private Route named(String conversationId, Supplier<Route> inner) {
    return Ids.isValid(conversationId)
        ? inner.get()
        : HttpErrors.complete(ErrorCode.BAD_REQUEST, "conversation ids are " + Ids.RULE);
  }

  private <T> Route body(Class<T> type, Function<T, Route> inner) {
    return entity(
        Unmarshaller.entityToString(),
        text ->
            RequestBodies.read(text, type)
                .map(inner)
                .orElseGet(
                    () ->
                        HttpErrors.complete(
                            ErrorCode.BAD_REQUEST,
                            "the body must be a JSON object of the documented shape")));
  }
}
