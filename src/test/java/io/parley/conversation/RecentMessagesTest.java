package io.parley.conversation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.pipeline.MessageRecord;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecentMessagesTest {

  private static final long BUDGET = 10_000;

  @Test
  void aRangeStopsAtTheByteBudgetAndSaysSo() {
    RecentMessages recent = filled(3_000, "x"); // about 3.2 KB each: 3 fit in 10,000 bytes
    RecentMessages.Range oldest = recent.between(0, Long.MAX_VALUE, 100, Conversation.Keep.OLDEST);
    assertEquals(List.of(1L, 2L, 3L), seqs(oldest));
    assertTrue(oldest.cut());

    RecentMessages.Range newest = recent.between(0, Long.MAX_VALUE, 100, Conversation.Keep.NEWEST);
    assertEquals(List.of(6L, 7L, 8L), seqs(newest), "the newest end is kept, ascending");
    assertTrue(newest.cut());
  }

  @Test
  void aRangeWithinTheBudgetIsWholeAndNotCut() {
    RecentMessages recent = filled(3_000, "x");
    RecentMessages.Range two = recent.between(4, 7, 100, Conversation.Keep.OLDEST);
    assertEquals(List.of(5L, 6L), seqs(two));
    assertFalse(two.cut());

    RecentMessages.Range limited = recent.between(0, Long.MAX_VALUE, 2, Conversation.Keep.OLDEST);
    assertEquals(List.of(1L, 2L), seqs(limited));
    assertFalse(limited.cut(), "the limit, not the budget, ended it");
  }

  @Test
  void bytesAreCountedInUtf8() {
    // 1,000 CJK characters are 3,000 bytes: the same 3 fit as with 3,000 ASCII characters.
    RecentMessages cjk = filled(1_000, "字");
    assertEquals(List.of(1L, 2L, 3L), seqs(cjk.between(0, 99, 100, Conversation.Keep.OLDEST)));
    // 1,500 emoji are 3,000 chars and 6,000 bytes: one fits.
    RecentMessages emoji = filled(1_500, "😀");
    assertEquals(List.of(1L), seqs(emoji.between(0, 99, 100, Conversation.Keep.OLDEST)));
  }

  @Test
  void oneMessageLargerThanTheBudgetStillComesAlone() {
    RecentMessages recent = filled(20_000, "x");
    RecentMessages.Range range = recent.between(0, 99, 100, Conversation.Keep.OLDEST);
    assertEquals(List.of(1L), seqs(range));
    assertTrue(range.cut());
  }

  private static RecentMessages filled(int repeat, String unit) {
    RecentMessages recent = new RecentMessages(8, BUDGET, 0);
    for (long seq = 1; seq <= 8; seq++) {
      recent.add(
          new MessageRecord(
              "c1", seq, "alice", "phone", "k" + seq, unit.repeat(repeat), Instant.EPOCH));
    }
    return recent;
  }

  private static List<Long> seqs(RecentMessages.Range range) {
    return range.messages().stream().map(MessageRecord::seq).toList();
  }
}
