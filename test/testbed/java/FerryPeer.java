// FerryPeer: an independent RocketMQ client built on Apache's own Java client (rocketmq-client), used
// by the test bed as an oracle (what does the reference client send and see?) and as a benchmark
// baseline. It compiles unchanged against rocketmq-client 4.9.7 and 5.3.3; the few APIs that exist
// in only one of them are reached by reflection.
//
// Output: JSON lines on stdout only (anything the client libraries print goes to stderr);
// diagnostics on stderr; exit 0 on success, 1 on failure, 2 on bad arguments.
//
//   produce    --namesrv A --topic T [--count N=1] [--body-size B [--body-random] | --body-text S]
//              [--tags t] [--keys "k1 k2"] [--prop k=v]... [--flag F [--flag-every K=1]] [--queue Q]
//              [--index-from I=0] [--batch B=1] [--interval-ms D=0]
//              [--compress-over BYTES] [--compress-type ZLIB|LZ4|ZSTD] [--ak X --sk Y] [--send-timeout-ms 10000]
//              [--body-size-at I=B[:random]]... [--pad-prop-at I=NAME:BYTES]... [--order-key K [--message-group]]
//      one line per message: msgId offsetMsgId brokerName queueId queueOffset sendStatus bodyBase64 bodyLength
//      (+ batchSize batchIndex for batch sends, + orderKey with --order-key)
//      "{i}" in --body-text/--tags/--keys/--prop/--order-key values is the message index (I, I+1, ...), "{i%N}" the
//      index mod N; the default body is "ferry-{i}"; --body-size bodies repeat "msg-<i>;" (or seeded random bytes
//      with --body-random). --body-size-at I=B: message I gets a body of B bytes instead (":random": random bytes).
//      --pad-prop-at I=NAME:BYTES: message I also gets property NAME, a value of BYTES ASCII characters.
//      --flag-every K: the flag only on indexes divisible by K. --batch B: groups of B sent as Java batches
//      (producer.send(Collection)). --interval-ms D: a pause between sends (singles or batches).
//      --order-key K: ordered sends, one at a time: messages with the same key go to the same queue (the key's
//      hashCode mod the queue count, as SelectMessageQueueByHash). --message-group: the key is also the
//      message's 5.x message group (property __SHARDINGKEY, which the 5.x proxy sets for FIFO messages).
//   produce-txn --namesrv A --topic T [--count N=1] [body, --tags, --keys, --prop, --pad-prop-at, --index-from,
//              --interval-ms as produce] [--late-index L]... [--late-commit-file PATH] [--late-wait-ms 120000]
//              [--ak X --sk Y] [--send-timeout-ms 10000]
//      transactional sends (TransactionMQProducer.sendMessageInTransaction): the local transaction commits even
//      indexes and rolls back odd ones; a --late-index one stays undecided (UNKNOW) until PATH exists, then it is
//      committed with the END_TRANSACTION request a check-back answer would send (DefaultMQProducerImpl.
//      endTransaction, with the half's own send result). A broker check-back is answered with the decision made so
//      far (UNKNOW for an undecided one). One line per message: the produce fields (queueOffset is the half
//      message's, offsetMsgId the half's) + index transactionId localState; then one line per late commit:
//      lateCommit (the index) msgId committedAt (ms, taken just before the request is sent).
//   consume    --namesrv A --topic T --expect N [--timeout-ms 30000] [--linger-ms 0] [--quiet-ms 0]
//              [--from earliest|latest] [--pull-batch 32] [--ak X --sk Y]
//      one line per distinct message: topic brokerName queueId queueOffset commitLogOffset msgId
//      offsetMsgId uniqKey bodyBase64 bodyLength bodyCRC tags keys properties bornTimestamp bornHost
//      storeTimestamp storeHost flag sysFlag compression reconsumeTimes; exit 1 if fewer than N seen.
//      Once N are seen it stops (after --linger-ms), or with --quiet-ms Q once nothing new arrived for Q ms.
//      Each queue is read in offset order from its start offset, gap-free: where the lite consumer skips
//      ahead (a pull task that outlives a seek), the queue is sought back to the first offset not yet seen.
//   bench-send --namesrv A --topic T [--count 10000] [--body-size 1024] [--batch 1] [--threads 1]
//              [--warmup 1000] [--body-random] [--compress-over B] [--compress-type T] [--ak X --sk Y]
//      one line: msgsPerSec count elapsedMs bodySize batch threads warmup
//   bench-pull --namesrv A --topic T [--count 10000] [--pull-batch 32] [--pull-threads 4] [--timeout-ms 120000]
//              [--ak X --sk Y]
//      one line: msgsPerSec count elapsedMs bytes queues pullBatchSize pullThreads
//   bench-pipe --src-namesrv A --dst-namesrv B --topic T --count N [--from latest|earliest] [--pull-batch 32]
//              [--pull-threads 20] [--send-batch 32] [--duration-ms 600000] [--src-ak X --src-sk Y] [--dst-ak X --dst-sk Y]
//              [--send-timeout-ms 10000] [--ready-file PATH]
//      the baseline replication pipe: a lite pull consumer assigned every queue of T at the source (each
//      queue sought to its max offset now, or its min with --from earliest; nothing committed) and a
//      producer on the destination with one sender thread per queue id, each message re-sent (tags,
//      keys, flag, body, user properties + FERRY_PIPE_STORE_TS = source storeTimestamp) to the same
//      queue id in synchronous batch sends of up to --send-batch (polled batches that waited are
//      merged), queues in parallel and in order within each.
//      Stops after N forwarded (acknowledged) or --duration-ms.
//      one line per second: forwarded elapsedMs; then one line: msgsPerSec count elapsedMs activeMs queues
//      pullBatch pullThreads sendBatch sendCalls sendRetries reseeks (msgsPerSec = count over first-polled..last-acked,
//      activeMs; reseeks: times a queue skipped ahead in the consumer and was sought back);
//      exit 1 if fewer than N were forwarded. --ready-file is written once every queue is positioned.
//   group-consume --namesrv A --topic T --group G [--count N=1] [--quiet-ms 0] [--timeout-ms 120000]
//              [--pull-batch 32] [--ak X --sk Y]
//      consumes T as consumer group G (a lite pull consumer subscribed to T: the group's committed offsets decide
//      where each queue starts, the first offset where it has none) until N were seen and, with --quiet-ms Q,
//      nothing new came for Q ms; then commits the offset after the last message of each queue (commitSync with
//      persist) and waits a second so the commit reaches the broker. One line per message: uniqKey brokerName queueId
//      queueOffset; then one line: consumed committed (an object "brokerName/queueId" -> committed offset).
//   push-consume --namesrv A --topic T --group G --expect N [--later] [--delay-level L=0] [--timeout-ms 120000]
//              [--from first|last] [--ak X --sk Y]
//      a push consumer of group G (which also reads the group's retry topic, as every push consumer does) until N
//      deliveries were seen; --later answers each one RECONSUME_LATER (with --delay-level L the broker's delay
//      level for the next delivery), else CONSUME_SUCCESS. One line per delivery: uniqKey topic (the original's,
//      for a retried one) queueId reconsumeTimes deliveredAt (ms); exit 1 if fewer than N were seen.
//   hold-group --namesrv A --topic T --group G [--hold-ms 60000] [--ak X --sk Y]
//      keeps a push consumer of group G subscribed to T online for --hold-ms (starting at T's last offset), so
//      the brokers list the group's connection; one line once started: ready; then one line: held received.

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.hook.SendMessageContext;
import org.apache.rocketmq.client.hook.SendMessageHook;
import org.apache.rocketmq.client.impl.MQAdminImpl;
import org.apache.rocketmq.client.impl.MQClientManager;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.common.compression.CompressionType;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageClientExt;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.RPCHook;

public final class FerryPeer {
    /** Properties the pulling client adds itself (PullAPIWrapper.processPullResult); not stored on the broker. */
    private static final Set<String> CLIENT_ADDED_PROPERTIES = new HashSet<>(Arrays.asList("MIN_OFFSET", "MAX_OFFSET"));
    /** rocketmq.message.compressType: read by the producer when it is constructed (both 4.9.7 and 5.3.3). */
    private static final String COMPRESS_TYPE_PROPERTY = "rocketmq.message.compressType";
    private static final int COMPRESSED_FLAG = 0x1;
    /** MessageConst.PROPERTY_SHARDING_KEY of 5.x (4.9.7's client has no such constant): a FIFO message's group. */
    private static final String SHARDING_KEY_PROPERTY = "__SHARDINGKEY";
    private static final int COMPRESSION_TYPE_MASK = 0x7 << 8;

    private static PrintStream out;
    private static long jvmToMainMs;

    static final class UsageError extends RuntimeException {
        UsageError(String m) {
            super(m);
        }
    }

    static final class Failure extends RuntimeException {
        Failure(String m) {
            super(m);
        }
    }

    public static void main(String[] argv) {
        long now = System.currentTimeMillis();
        jvmToMainMs = now - ProcessHandle.current().info().startInstant().map(i -> i.toEpochMilli()).orElse(now);
        // Keep stdout for our JSON lines only; ASCII-only output (non-ASCII characters are escaped), so the
        // platform encoding cannot matter.
        out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.US_ASCII);
        System.setOut(System.err);
        if ("true".equals(System.getProperty("ferry.peer.watchStdin"))) watchStdin();
        int code;
        try {
            if (argv.length == 0) {
                throw new UsageError("missing subcommand (produce | produce-txn | consume | bench-send | bench-pull | bench-pipe)");
            }
            Args a = new Args(Arrays.copyOfRange(argv, 1, argv.length));
            switch (argv[0]) {
                case "produce": code = produce(a); break;
                case "produce-txn": code = produceTxn(a); break;
                case "consume": code = consume(a); break;
                case "bench-send": code = benchSend(a); break;
                case "bench-pull": code = benchPull(a); break;
                case "bench-pipe": code = benchPipe(a); break;
                case "group-consume": code = groupConsume(a); break;
                case "hold-group": code = holdGroup(a); break;
                case "push-consume": code = pushConsume(a); break;
                default: throw new UsageError("unknown subcommand " + argv[0]);
            }
        } catch (UsageError e) {
            System.err.println("ferry-peer: usage: " + e.getMessage());
            code = 2;
        } catch (Failure e) {
            System.err.println("ferry-peer: " + e.getMessage());
            code = 1;
        } catch (Throwable e) {
            System.err.println("ferry-peer: failed: " + e);
            e.printStackTrace(System.err);
            code = 1;
        }
        out.flush();
        System.err.flush();
        // The client leaves non-daemon threads behind (and shutdown can stall on a dead broker).
        Runtime.getRuntime().halt(code);
    }

    /** When the parent closes our stdin (or dies), stop at once: no orphan JVMs in the test bed. */
    private static void watchStdin() {
        Thread t = new Thread(() -> {
            try {
                InputStream in = System.in;
                byte[] buf = new byte[256];
                while (in.read(buf) >= 0) {
                    // drain
                }
            } catch (Exception ignored) {
                // treat as closed
            }
            System.err.println("ferry-peer: stdin closed, exiting");
            Runtime.getRuntime().halt(3);
        }, "ferry-stdin-watch");
        t.setDaemon(true);
        t.start();
    }

    // ---------------------------------------------------------------- produce

    private static int produce(Args a) throws Exception {
        a.allow("namesrv", "topic", "count", "body-size", "body-text", "body-random", "tags", "keys", "prop", "flag",
            "compress-over", "compress-type", "ak", "sk", "queue", "send-timeout-ms", "index-from", "flag-every", "batch", "interval-ms",
            "body-size-at", "pad-prop-at", "order-key", "message-group");
        String topic = a.req("topic");
        int count = a.intOr("count", 1);
        Integer queue = a.has("queue") ? a.intOr("queue", 0) : null;
        BodyMaker bodies = new BodyMaker(a);
        PropsMaker props = new PropsMaker(a);
        String orderKey = a.opt("order-key");
        boolean messageGroup = a.flag("message-group");
        if (messageGroup && orderKey == null) throw new UsageError("--message-group needs --order-key");
        String tags = a.opt("tags");
        String keys = a.opt("keys");
        Integer flag = a.has("flag") ? a.intOr("flag", 0) : null;
        int indexFrom = a.intOr("index-from", 0);
        int flagEvery = a.intOr("flag-every", 1);
        if (flagEvery < 1) throw new UsageError("--flag-every must be at least 1");
        int batchSize = a.intOr("batch", 1);
        if (batchSize < 1) throw new UsageError("--batch must be at least 1");
        long intervalMs = a.intOr("interval-ms", 0);
        if (orderKey != null && (queue != null || batchSize > 1)) throw new UsageError("--order-key goes with neither --queue nor --batch");

        DefaultMQProducer producer = newProducer(a, false);
        long t0 = System.nanoTime();
        producer.start();
        long t1 = System.nanoTime();
        int notOk = 0;
        try {
            MessageQueueSelector selector = (mqs, msg, arg) -> {
                int want = (Integer) arg;
                for (MessageQueue mq : mqs) if (mq.getQueueId() == want) return mq;
                throw new IllegalArgumentException("topic has no writable queue " + want + " (queues: " + mqs + ")");
            };
            MessageQueueSelector byKey = (mqs, msg, arg) -> mqs.get(Math.floorMod(arg.hashCode(), mqs.size()));
            if (batchSize == 1) {
                for (int n = 0; n < count; n++) {
                    if (n > 0 && intervalMs > 0) Thread.sleep(intervalMs);
                    int i = indexFrom + n;
                    byte[] body = bodies.body(i);
                    Message msg = produceMessage(topic, body, i, tags, keys, flag, flagEvery, props);
                    String key = orderKey != null ? subst(orderKey, i) : null;
                    if (key != null && messageGroup) MessageAccessor.putProperty(msg, SHARDING_KEY_PROPERTY, key);
                    SendResult r = whileBusy(() -> key != null
                        ? producer.send(msg, byKey, key)
                        : queue != null ? producer.send(msg, selector, queue) : producer.send(msg));
                    if (r.getSendStatus() != SendStatus.SEND_OK) notOk++;
                    Json line = produced(r, r.getMsgId(), r.getOffsetMsgId(), r.getQueueOffset(), body);
                    emit(key != null ? line.str("orderKey", key) : line);
                }
            } else {
                // --batch B: groups of B sent as one Java batch (producer.send(Collection)); one line per message,
                // its id and offset taken from the batch's SendResult (ids comma-joined, offsets consecutive).
                MessageQueue target = queue != null ? publishQueue(producer, topic, queue) : null;
                for (int start = 0; start < count; start += batchSize) {
                    if (start > 0 && intervalMs > 0) Thread.sleep(intervalMs);
                    int n = Math.min(batchSize, count - start);
                    List<Message> msgs = new ArrayList<>(n);
                    List<byte[]> batchBodies = new ArrayList<>(n);
                    for (int k = 0; k < n; k++) {
                        int i = indexFrom + start + k;
                        byte[] body = bodies.body(i);
                        batchBodies.add(body);
                        msgs.add(produceMessage(topic, body, i, tags, keys, flag, flagEvery, props));
                    }
                    SendResult r = whileBusy(() -> target != null ? producer.send(msgs, target) : producer.send(msgs));
                    if (r.getSendStatus() != SendStatus.SEND_OK) notOk += n;
                    String[] ids = r.getMsgId() != null ? r.getMsgId().split(",") : new String[0];
                    String[] offsetIds = r.getOffsetMsgId() != null ? r.getOffsetMsgId().split(",") : new String[0];
                    for (int k = 0; k < n; k++) {
                        String id = ids.length == n ? ids[k] : msgs.get(k).getProperty(MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
                        String offsetId = offsetIds.length == n ? offsetIds[k] : null;
                        emit(produced(r, id, offsetId, r.getQueueOffset() + k, batchBodies.get(k))
                            .num("batchSize", n)
                            .num("batchIndex", k));
                    }
                }
            }
        } finally {
            long t2 = System.nanoTime();
            System.err.printf("ferry-peer: timings: jvm-to-main %d ms, producer start %d ms, %d sends %d ms%n",
                jvmToMainMs, (t1 - t0) / 1_000_000, count, (t2 - t1) / 1_000_000);
            shutdownBounded("producer", producer::shutdown);
        }
        if (notOk > 0) throw new Failure(notOk + " of " + count + " sends did not return SEND_OK");
        return 0;
    }

    /** Message number i of produce: body, tags, keys, flag (on every --flag-every'th index) and user properties. */
    private static Message produceMessage(String topic, byte[] body, int i, String tags, String keys, Integer flag, int flagEvery,
        PropsMaker props) {
        Message msg = new Message(topic, body);
        if (tags != null) msg.setTags(subst(tags, i));
        if (keys != null) msg.setKeys(subst(keys, i));
        if (flag != null && i % flagEvery == 0) msg.setFlag(flag);
        props.apply(msg, i);
        return msg;
    }

    /** User properties: every --prop k=v ("{i}" substituted), plus the --pad-prop-at ones of the index. */
    static final class PropsMaker {
        final List<String[]> props = new ArrayList<>();
        final Map<Integer, List<String[]>> padAt = new HashMap<>();

        PropsMaker(Args a) {
            for (String p : a.all("prop")) {
                int eq = p.indexOf('=');
                if (eq <= 0) throw new UsageError("--prop expects key=value, got " + p);
                props.add(new String[] {p.substring(0, eq), p.substring(eq + 1)});
            }
            for (String p : a.all("pad-prop-at")) {
                int eq = p.indexOf('=');
                int colon = p.lastIndexOf(':');
                if (eq <= 0 || colon <= eq + 1) throw new UsageError("--pad-prop-at expects I=NAME:BYTES, got " + p);
                int index = parseInt("--pad-prop-at", p.substring(0, eq));
                int bytes = parseInt("--pad-prop-at", p.substring(colon + 1));
                char[] value = new char[bytes];
                for (int k = 0; k < bytes; k++) value[k] = (char) ('a' + k % 26);
                padAt.computeIfAbsent(index, x -> new ArrayList<>()).add(new String[] {p.substring(eq + 1, colon), new String(value)});
            }
        }

        void apply(Message msg, int i) {
            for (String[] p : props) msg.putUserProperty(p[0], subst(p[1], i));
            for (String[] p : padAt.getOrDefault(i, new ArrayList<>())) msg.putUserProperty(p[0], p[1]);
        }
    }

    // ---------------------------------------------------------------- produce-txn

    private static int produceTxn(Args a) throws Exception {
        a.allow("namesrv", "topic", "count", "body-size", "body-text", "body-random", "body-size-at", "tags", "keys", "prop",
            "pad-prop-at", "ak", "sk", "index-from", "interval-ms", "send-timeout-ms", "late-index", "late-commit-file", "late-wait-ms");
        String topic = a.req("topic");
        int count = a.intOr("count", 1);
        int indexFrom = a.intOr("index-from", 0);
        long intervalMs = a.intOr("interval-ms", 0);
        BodyMaker bodies = new BodyMaker(a);
        PropsMaker props = new PropsMaker(a);
        String tags = a.opt("tags");
        String keys = a.opt("keys");
        Set<Integer> late = new HashSet<>();
        for (String l : a.all("late-index")) late.add(parseInt("--late-index", l));
        String lateFile = a.opt("late-commit-file");
        if (!late.isEmpty() && lateFile == null) throw new UsageError("--late-index needs --late-commit-file");
        long lateWaitMs = a.intOr("late-wait-ms", 120_000);

        TransactionMQProducer producer = (TransactionMQProducer) newProducer(a, true);
        // The broker's answer to each half send, by message id: a late END_TRANSACTION needs the commit log
        // offset it carries (offsetMsgId), which the TransactionSendResult leaves out.
        Map<String, SendResult> halves = new ConcurrentHashMap<>();
        producer.getDefaultMQProducerImpl().registerSendMessageHook(new SendMessageHook() {
            @Override
            public String hookName() {
                return "ferry-peer-half-results";
            }

            @Override
            public void sendMessageBefore(SendMessageContext context) {
            }

            @Override
            public void sendMessageAfter(SendMessageContext context) {
                SendResult r = context.getSendResult();
                if (r != null && r.getMsgId() != null) halves.put(r.getMsgId(), r);
            }
        });
        // The local transaction's outcome by message id (UNIQ_KEY), as a check-back is answered.
        Map<String, LocalTransactionState> decided = new ConcurrentHashMap<>();
        producer.setTransactionListener(new TransactionListener() {
            @Override
            public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
                int i = (Integer) arg;
                LocalTransactionState s = late.contains(i)
                    ? LocalTransactionState.UNKNOW
                    : i % 2 == 0 ? LocalTransactionState.COMMIT_MESSAGE : LocalTransactionState.ROLLBACK_MESSAGE;
                decided.put(msg.getProperty(MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX), s);
                return s;
            }

            @Override
            public LocalTransactionState checkLocalTransaction(MessageExt msg) {
                String id = msg.getProperty(MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
                LocalTransactionState s = id != null ? decided.get(id) : null;
                if (s == null) s = LocalTransactionState.UNKNOW;
                System.err.println("ferry-peer: check-back for " + id + " answered " + s);
                return s;
            }
        });
        long t0 = System.nanoTime();
        producer.start();
        int notOk = 0;
        try {
            List<Object[]> pending = new ArrayList<>();
            for (int n = 0; n < count; n++) {
                if (n > 0 && intervalMs > 0) Thread.sleep(intervalMs);
                int i = indexFrom + n;
                byte[] body = bodies.body(i);
                Message msg = produceMessage(topic, body, i, tags, keys, null, 1, props);
                TransactionSendResult r = producer.sendMessageInTransaction(msg, i);
                if (r.getSendStatus() != SendStatus.SEND_OK) notOk++;
                SendResult half = halves.get(r.getMsgId());
                if (half == null) throw new Failure("no send result recorded for half message " + r.getMsgId());
                emit(produced(r, r.getMsgId(), half.getOffsetMsgId(), r.getQueueOffset(), body)
                    .num("index", i)
                    .str("transactionId", r.getTransactionId())
                    .str("localState", r.getLocalTransactionState().name()));
                if (late.contains(i)) pending.add(new Object[] {i, msg, half});
            }
            if (!pending.isEmpty()) {
                Path signal = Path.of(lateFile);
                long until = System.currentTimeMillis() + lateWaitMs;
                while (!Files.exists(signal)) {
                    if (System.currentTimeMillis() > until) throw new Failure("no " + lateFile + " within " + lateWaitMs + " ms");
                    Thread.sleep(50);
                }
                for (Object[] p : pending) {
                    Message msg = (Message) p[1];
                    SendResult half = (SendResult) p[2];
                    long at = System.currentTimeMillis();
                    decided.put(half.getMsgId(), LocalTransactionState.COMMIT_MESSAGE);
                    producer.getDefaultMQProducerImpl().endTransaction(msg, half, LocalTransactionState.COMMIT_MESSAGE, null);
                    emit(new Json().num("lateCommit", (Integer) p[0]).str("msgId", half.getMsgId()).num("committedAt", at));
                }
            }
            // END_TRANSACTION is a one-way request: let the last ones leave before the JVM halts.
            Thread.sleep(1000);
        } finally {
            System.err.printf("ferry-peer: timings: jvm-to-main %d ms, %d transactional sends %d ms%n",
                jvmToMainMs, count, (System.nanoTime() - t0) / 1_000_000);
            shutdownBounded("producer", producer::shutdown);
        }
        if (notOk > 0) throw new Failure(notOk + " of " + count + " half sends did not return SEND_OK");
        return 0;
    }

    private static Json produced(SendResult r, String msgId, String offsetMsgId, long queueOffset, byte[] body) {
        return new Json()
            .str("msgId", msgId)
            .str("offsetMsgId", offsetMsgId)
            .str("brokerName", r.getMessageQueue().getBrokerName())
            .num("queueId", r.getMessageQueue().getQueueId())
            .num("queueOffset", queueOffset)
            .str("sendStatus", r.getSendStatus().name())
            .str("bodyBase64", Base64.getEncoder().encodeToString(body))
            .num("bodyLength", body.length);
    }

    /** The writable queue `queueId` of the topic, for batch sends to a given queue. */
    private static MessageQueue publishQueue(DefaultMQProducer producer, String topic, int queueId) throws Exception {
        List<MessageQueue> mqs = retry("fetch publish queues of " + topic, () -> producer.fetchPublishMessageQueues(topic));
        for (MessageQueue mq : mqs) if (mq.getQueueId() == queueId) return mq;
        throw new Failure("topic " + topic + " has no writable queue " + queueId + " (queues: " + mqs + ")");
    }

    /** A producer with a unique group, ACL hook if asked, and the compression settings of the args. */
    private static DefaultMQProducer newProducer(Args a, boolean transactional) throws Exception {
        String type = a.opt("compress-type");
        Method setCompressType = null;
        if (type != null) {
            type = type.toUpperCase();
            if (!Arrays.asList("ZLIB", "LZ4", "ZSTD").contains(type)) throw new UsageError("--compress-type must be ZLIB, LZ4 or ZSTD");
            try {
                setCompressType = DefaultMQProducer.class.getMethod("setCompressType", CompressionType.class);
            } catch (NoSuchMethodException e) {
                // 4.9.x: no setter, but DefaultMQProducerImpl reads this system property when the
                // producer is constructed, and CompressionType/CompressorFactory know LZ4 and ZSTD.
                System.setProperty(COMPRESS_TYPE_PROPERTY, type);
                System.err.println("ferry-peer: client has no setCompressType; using -D" + COMPRESS_TYPE_PROPERTY + "=" + type);
            }
        }
        String group = "ferry_peer_p_" + uniq();
        RPCHook hook = hook(a);
        DefaultMQProducer p;
        if (transactional) p = hook != null ? new TransactionMQProducer(group, hook) : new TransactionMQProducer(group);
        else p = hook != null ? new DefaultMQProducer(group, hook) : new DefaultMQProducer(group);
        p.setNamesrvAddr(a.req("namesrv"));
        p.setInstanceName(group);
        p.setVipChannelEnabled(false);
        p.setSendMsgTimeout(a.intOr("send-timeout-ms", 10_000));
        if (a.has("compress-over")) p.setCompressMsgBodyOverHowmuch(a.intOr("compress-over", 4096));
        if (setCompressType != null) setCompressType.invoke(p, CompressionType.of(type));
        return p;
    }

    /**
     * Deterministic bodies: --body-size B (index text repeated, or seeded random bytes), or --body-text S;
     * --body-size-at I=B[:random] overrides the body of message I.
     */
    static final class BodyMaker {
        final Integer size;
        final String text;
        final boolean random;
        final Map<Integer, Integer> sizeAt = new HashMap<>();
        final Set<Integer> randomAt = new HashSet<>();

        BodyMaker(Args a) {
            size = a.has("body-size") ? a.intOr("body-size", 0) : null;
            text = a.opt("body-text");
            random = a.flag("body-random");
            if (size != null && text != null) throw new UsageError("give --body-size or --body-text, not both");
            for (String s : a.all("body-size-at")) {
                int eq = s.indexOf('=');
                if (eq <= 0) throw new UsageError("--body-size-at expects I=B[:random], got " + s);
                int index = parseInt("--body-size-at", s.substring(0, eq));
                String spec = s.substring(eq + 1);
                if (spec.endsWith(":random")) {
                    randomAt.add(index);
                    spec = spec.substring(0, spec.length() - ":random".length());
                }
                sizeAt.put(index, parseInt("--body-size-at", spec));
            }
        }

        byte[] body(int i) {
            Integer size = sizeAt.getOrDefault(i, this.size);
            boolean random = sizeAt.containsKey(i) ? randomAt.contains(i) : this.random;
            if (size == null) return subst(text != null ? text : "ferry-{i}", i).getBytes(StandardCharsets.UTF_8);
            byte[] b = new byte[size];
            if (random) {
                new Random(0x5eedL * 31 + i).nextBytes(b);
                return b;
            }
            byte[] unit = ("msg-" + i + ";").getBytes(StandardCharsets.US_ASCII);
            for (int k = 0; k < size; k++) b[k] = unit[k % unit.length];
            return b;
        }
    }

    // ---------------------------------------------------------------- consume

    private static int consume(Args a) throws Exception {
        a.allow("namesrv", "topic", "expect", "timeout-ms", "ak", "sk", "from", "linger-ms", "pull-batch", "quiet-ms");
        String topic = a.req("topic");
        int expect = a.intOr("expect", 1);
        long timeoutMs = a.intOr("timeout-ms", 30_000);
        long lingerMs = a.intOr("linger-ms", 0);
        long quietMs = a.intOr("quiet-ms", 0);
        long lastNewAt = System.currentTimeMillis();
        long lingerUntil = Long.MAX_VALUE;
        DefaultLitePullConsumer c = newPullConsumer(a, a.intOr("pull-batch", 32), 4);
        Set<String> seen = new HashSet<>();
        long t0 = System.nanoTime();
        Map<MessageQueue, Long> next = null;
        try {
            // Next offset to emit, per queue (kept gap-free by pollInOrder).
            next = assignAll(c, topic, a.opt("from"), hook(a));
            System.err.printf("ferry-peer: timings: jvm-to-main %d ms, consumer start+assign+seek %d ms%n",
                jvmToMainMs, (System.nanoTime() - t0) / 1_000_000);
            long deadline = System.currentTimeMillis() + timeoutMs;
            long stopAt = Long.MAX_VALUE;
            while (true) {
                long now = System.currentTimeMillis();
                long until = Math.min(deadline, stopAt);
                if (now >= until) break;
                for (MessageExt m : pollInOrder(c, next, Math.max(1, Math.min(500, until - now)))) {
                    String id = m.getBrokerName() + "/" + m.getQueueId() + "/" + m.getQueueOffset();
                    if (!seen.add(id)) continue;
                    lastNewAt = System.currentTimeMillis();
                    emit(describe(m));
                }
                if (seen.size() >= expect && quietMs > 0) {
                    // --quiet-ms: read on until nothing new has arrived for that long (late extras are seen).
                    // Stops at the later of the linger (from when N were first seen) and the quiet period.
                    if (lingerUntil == Long.MAX_VALUE) lingerUntil = System.currentTimeMillis() + lingerMs;
                    stopAt = Math.max(lingerUntil, lastNewAt + quietMs);
                } else if (seen.size() >= expect && stopAt == Long.MAX_VALUE) {
                    if (lingerMs <= 0) break;
                    stopAt = System.currentTimeMillis() + lingerMs;
                }
            }
        } finally {
            if (seen.size() < expect && next != null) reportShortQueues(c, next, hook(a));
            shutdownBounded("consumer", c::shutdown);
        }
        System.err.println("ferry-peer: consumed " + seen.size() + " of " + expect + " expected");
        if (seen.size() < expect) throw new Failure("timed out: saw " + seen.size() + " of " + expect + " messages");
        return 0;
    }

    // ---------------------------------------------------------------- consumer groups (offset translation)

    private static int groupConsume(Args a) throws Exception {
        a.allow("namesrv", "topic", "group", "count", "quiet-ms", "timeout-ms", "pull-batch", "ak", "sk");
        String topic = a.req("topic");
        String group = a.req("group");
        int count = a.intOr("count", 1);
        long quietMs = a.intOr("quiet-ms", 0);
        long deadline = System.currentTimeMillis() + a.intOr("timeout-ms", 120_000);
        RPCHook hook = hook(a);
        DefaultLitePullConsumer c = hook != null ? new DefaultLitePullConsumer(group, hook) : new DefaultLitePullConsumer(group);
        c.setNamesrvAddr(a.req("namesrv"));
        c.setInstanceName(group + "_" + uniq());
        c.setVipChannelEnabled(false);
        c.setAutoCommit(false); // committed once, below, exactly after the last message seen per queue
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.setPullBatchSize(a.intOr("pull-batch", 32));
        c.subscribe(topic, "*");
        c.start();
        Map<MessageQueue, Long> next = new HashMap<>();
        int seen = 0;
        long lastNewAt = System.currentTimeMillis();
        try {
            while (System.currentTimeMillis() < deadline) {
                if (seen >= count && System.currentTimeMillis() - lastNewAt >= quietMs) break;
                for (MessageExt m : c.poll(500)) {
                    MessageQueue mq = new MessageQueue(m.getTopic(), m.getBrokerName(), m.getQueueId());
                    next.merge(mq, m.getQueueOffset() + 1, Long::max);
                    seen++;
                    lastNewAt = System.currentTimeMillis();
                    emit(new Json()
                        .str("uniqKey", m.getProperty("UNIQ_KEY"))
                        .str("brokerName", m.getBrokerName())
                        .num("queueId", m.getQueueId())
                        .num("queueOffset", m.getQueueOffset()));
                }
            }
            if (!next.isEmpty()) {
                c.commitSync(next, true);
                Thread.sleep(1000); // the commit is a oneway request on 4.9.x: give it time before the JVM halts
            }
        } finally {
            shutdownBounded("consumer", c::shutdown);
        }
        Map<String, String> committed = new TreeMap<>();
        for (Map.Entry<MessageQueue, Long> e : next.entrySet()) {
            committed.put(e.getKey().getBrokerName() + "/" + e.getKey().getQueueId(), String.valueOf(e.getValue()));
        }
        emit(new Json().num("consumed", seen).map("committed", committed));
        if (seen < count) throw new Failure("timed out: saw " + seen + " of " + count + " messages");
        return 0;
    }

    private static int pushConsume(Args a) throws Exception {
        a.allow("namesrv", "topic", "group", "expect", "later", "delay-level", "timeout-ms", "from", "ak", "sk");
        String group = a.req("group");
        int expect = a.intOr("expect", 1);
        boolean later = a.flag("later");
        int delayLevel = a.intOr("delay-level", 0);
        String from = a.opt("from") == null ? "first" : a.opt("from");
        if (!from.equals("first") && !from.equals("last")) throw new UsageError("--from is first or last");
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group, hook(a), new AllocateMessageQueueAveragely());
        c.setNamesrvAddr(a.req("namesrv"));
        c.setInstanceName(group + "_" + uniq());
        c.setVipChannelEnabled(false);
        c.setConsumeFromWhere(
            from.equals("first") ? ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET : ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
        c.setConsumeMessageBatchMaxSize(1);
        c.subscribe(a.req("topic"), "*");
        java.util.concurrent.CountDownLatch seen = new java.util.concurrent.CountDownLatch(expect);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
            long at = System.currentTimeMillis();
            for (MessageExt m : msgs) {
                emit(new Json()
                    .str("uniqKey", m.getProperty("UNIQ_KEY"))
                    .str("topic", m.getTopic())
                    .num("queueId", m.getQueueId())
                    .num("reconsumeTimes", m.getReconsumeTimes())
                    .num("deliveredAt", at));
                seen.countDown();
            }
            if (!later) return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            if (delayLevel > 0) context.setDelayLevelWhenNextConsume(delayLevel);
            return ConsumeConcurrentlyStatus.RECONSUME_LATER;
        });
        c.start();
        boolean all;
        try {
            all = seen.await(a.intOr("timeout-ms", 120_000), TimeUnit.MILLISECONDS);
            Thread.sleep(1000); // the answer (a send-back or an offset) reaches the broker before the shutdown persists offsets
        } finally {
            shutdownBounded("consumer", c::shutdown);
        }
        if (!all) throw new Failure("timed out: saw " + (expect - seen.getCount()) + " of " + expect + " deliveries");
        return 0;
    }

    private static int holdGroup(Args a) throws Exception {
        a.allow("namesrv", "topic", "group", "hold-ms", "ak", "sk");
        String group = a.req("group");
        RPCHook hook = hook(a);
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group, hook, new AllocateMessageQueueAveragely());
        c.setNamesrvAddr(a.req("namesrv"));
        c.setInstanceName(group + "_" + uniq());
        c.setVipChannelEnabled(false);
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
        c.subscribe(a.req("topic"), "*");
        AtomicLong received = new AtomicLong();
        c.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
            received.addAndGet(msgs.size());
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        emit(new Json().str("ready", "true"));
        long holdMs = a.intOr("hold-ms", 60_000);
        try {
            Thread.sleep(holdMs);
        } finally {
            shutdownBounded("consumer", c::shutdown);
        }
        emit(new Json().num("held", holdMs).num("received", received.get()));
        return 0;
    }

    /** A short read: which queues stopped before their end (evidence for a reader that missed a queue). */
    private static void reportShortQueues(DefaultLitePullConsumer c, Map<MessageQueue, Long> next, RPCHook hook) {
        try {
            MQAdminImpl admin = MQClientManager.getInstance().getOrCreateMQClientInstance(c, hook).getMQAdminImpl();
            for (Map.Entry<MessageQueue, Long> e : next.entrySet()) {
                long max = admin.maxOffset(e.getKey());
                if (e.getValue() < max) System.err.println("ferry-peer: short read: " + e.getKey() + " read up to " + e.getValue() + " of " + max);
            }
        } catch (Exception e) {
            System.err.println("ferry-peer: short read: queue ends unknown (" + e + ")");
        }
    }

    private static DefaultLitePullConsumer newPullConsumer(Args a, int pullBatch, int pullThreads) {
        String group = "ferry_peer_c_" + uniq();
        RPCHook hook = hook(a);
        DefaultLitePullConsumer c = hook != null ? new DefaultLitePullConsumer(group, hook) : new DefaultLitePullConsumer(group);
        c.setNamesrvAddr(a.req("namesrv"));
        c.setInstanceName(group);
        c.setVipChannelEnabled(false);
        c.setAutoCommit(false); // read-only observer: never commit offsets for the throwaway group
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.setPullBatchSize(pullBatch);
        c.setPullThreadNums(pullThreads);
        return c;
    }

    /**
     * Starts the consumer on every readable queue of the topic, at the min (or max) offset of each;
     * returns those offsets.
     */
    private static Map<MessageQueue, Long> assignAll(DefaultLitePullConsumer c, String topic, String from, RPCHook hook)
        throws Exception {
        if (from == null) from = "earliest";
        if (!from.equals("earliest") && !from.equals("latest")) throw new UsageError("--from must be earliest or latest");
        c.start();
        Collection<MessageQueue> mqs = retry("fetch queues of " + topic, () -> c.fetchMessageQueues(topic));
        if (mqs.isEmpty()) throw new Failure("topic " + topic + " has no readable queues");
        c.assign(mqs);
        final boolean earliest = from.equals("earliest");
        // The consumer's own client instance (same config, so same client id) answers min/max offsets.
        MQAdminImpl admin = MQClientManager.getInstance().getOrCreateMQClientInstance(c, hook).getMQAdminImpl();
        Map<MessageQueue, Long> start = new HashMap<>();
        for (MessageQueue mq : mqs) {
            long offset = retry("start offset of " + mq, () -> earliest ? admin.minOffset(mq) : admin.maxOffset(mq));
            retry("seek " + mq, () -> {
                c.seek(mq, offset);
                return null;
            });
            start.put(mq, offset);
        }
        return start;
    }

    interface Step<T> {
        T run() throws Exception;
    }

    /**
     * Setup calls (route, min offset) are retried: on a loaded machine the first connection to a
     * broker can be torn down under an in-flight request ("send request to <addr> failed").
     */
    /**
     * A send the broker refused with SYSTEM_BUSY (flow control on a loaded machine: nothing was stored)
     * is sent again, as a user's producer would; any other failure is the caller's.
     */
    private static <T> T whileBusy(Step<T> send) throws Exception {
        for (int busy = 1; ; busy++) {
            try {
                return send.run();
            } catch (MQBrokerException e) {
                if (e.getResponseCode() != SYSTEM_BUSY || busy >= 200) throw e;
                Thread.sleep(Math.min(1000L, 20L * busy));
            }
        }
    }

    private static <T> T retry(String what, Step<T> step) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return step.run();
            } catch (Exception e) {
                if (attempt >= 4) throw e;
                System.err.println("ferry-peer: " + what + " failed (attempt " + attempt + "), retrying: " + String.valueOf(e).split("\n")[0]);
                Thread.sleep(500L * attempt);
            }
        }
    }

    private static Json describe(MessageExt m) {
        Map<String, String> props = new TreeMap<>();
        if (m.getProperties() != null) {
            for (Map.Entry<String, String> e : m.getProperties().entrySet()) {
                if (!CLIENT_ADDED_PROPERTIES.contains(e.getKey())) props.put(e.getKey(), e.getValue());
            }
        }
        byte[] body = m.getBody() != null ? m.getBody() : new byte[0];
        String offsetMsgId = m instanceof MessageClientExt ? ((MessageClientExt) m).getOffsetMsgId() : m.getMsgId();
        return new Json()
            .str("topic", m.getTopic())
            .str("brokerName", m.getBrokerName())
            .num("queueId", m.getQueueId())
            .num("queueOffset", m.getQueueOffset())
            .num("commitLogOffset", m.getCommitLogOffset())
            .str("msgId", m.getMsgId())
            .str("offsetMsgId", offsetMsgId)
            .str("uniqKey", m.getProperty("UNIQ_KEY"))
            .str("bodyBase64", Base64.getEncoder().encodeToString(body))
            .num("bodyLength", body.length)
            .num("bodyCRC", m.getBodyCRC())
            .str("tags", m.getTags())
            .str("keys", m.getKeys())
            .map("properties", props)
            .num("bornTimestamp", m.getBornTimestamp())
            .str("bornHost", m.getBornHostString())
            .num("storeTimestamp", m.getStoreTimestamp())
            .str("storeHost", String.valueOf(m.getStoreHost()))
            .num("flag", m.getFlag())
            .num("sysFlag", m.getSysFlag())
            .str("compression", compressionOf(m.getSysFlag()))
            .num("reconsumeTimes", m.getReconsumeTimes());
    }

    /** Compression recorded in the stored sysFlag (bits 8-10 = type; bit 0 alone = legacy ZLIB). */
    static String compressionOf(int sysFlag) {
        switch ((sysFlag & COMPRESSION_TYPE_MASK) >> 8) {
            case 1: return "LZ4";
            case 2: return "ZSTD";
            case 3: return "ZLIB";
            default: return (sysFlag & COMPRESSED_FLAG) != 0 ? "ZLIB" : null;
        }
    }

    // ---------------------------------------------------------------- benchmarks

    private static int benchSend(Args a) throws Exception {
        a.allow("namesrv", "topic", "count", "body-size", "body-random", "batch", "threads", "warmup", "ak", "sk",
            "compress-over", "compress-type", "send-timeout-ms");
        String topic = a.req("topic");
        final int count = a.intOr("count", 10_000);
        final int batch = Math.max(1, a.intOr("batch", 1));
        final int threads = Math.max(1, a.intOr("threads", 1));
        final int warmup = a.intOr("warmup", 1000);
        final int bodySize = a.intOr("body-size", 1024);
        byte[] body = new byte[bodySize];
        if (a.flag("body-random")) new Random(42).nextBytes(body);
        else Arrays.fill(body, (byte) 'x');

        DefaultMQProducer producer = newProducer(a, false);
        producer.start();
        try {
            runSenders(producer, topic, body, warmup, batch, threads);
            long t0 = System.nanoTime();
            runSenders(producer, topic, body, count, batch, threads);
            long ns = System.nanoTime() - t0;
            double ms = ns / 1e6;
            emit(new Json()
                .dbl("msgsPerSec", count / (ns / 1e9))
                .num("count", count)
                .dbl("elapsedMs", ms)
                .num("bodySize", bodySize)
                .num("batch", batch)
                .num("threads", threads)
                .num("warmup", warmup));
        } finally {
            shutdownBounded("producer", producer::shutdown);
        }
        return 0;
    }

    /** Sends `total` messages from `threads` threads, `batch` per send() call (a MessageBatch when > 1). */
    private static void runSenders(DefaultMQProducer producer, String topic, byte[] body, int total, int batch, int threads)
        throws Exception {
        if (total <= 0) return;
        AtomicLong next = new AtomicLong();
        AtomicReference<Throwable> error = new AtomicReference<>();
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            ts[t] = new Thread(() -> {
                try {
                    while (error.get() == null) {
                        long start = next.getAndAdd(batch);
                        if (start >= total) return;
                        int n = (int) Math.min(batch, total - start);
                        SendResult r;
                        if (batch == 1) {
                            r = producer.send(new Message(topic, body));
                        } else {
                            List<Message> msgs = new ArrayList<>(n);
                            for (int k = 0; k < n; k++) msgs.add(new Message(topic, body));
                            r = producer.send(msgs);
                        }
                        if (r.getSendStatus() != SendStatus.SEND_OK) throw new Failure("send status " + r.getSendStatus());
                    }
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                }
            }, "ferry-send-" + t);
            ts[t].start();
        }
        for (Thread t : ts) t.join();
        Throwable e = error.get();
        if (e instanceof Exception) throw (Exception) e;
        if (e != null) throw new RuntimeException(e);
    }

    /**
     * One poll, kept gap-free per queue: `next` holds each queue's next offset. The lite consumer can
     * skip a batch (a pull task cancelled by seek() may still take the seek offset, and its replacement
     * then starts at the old pull offset); offsets in a queue are contiguous, so a jump means messages
     * were skipped: that queue is sought back and its messages past the gap wait for the re-read.
     */
    static List<MessageExt> pollInOrder(DefaultLitePullConsumer c, Map<MessageQueue, Long> next, long timeoutMs) throws Exception {
        List<MessageExt> out = new ArrayList<>();
        Set<MessageQueue> gaps = new HashSet<>();
        for (MessageExt m : c.poll(timeoutMs)) {
            MessageQueue q = sourceQueue(next.keySet(), m);
            Long want = q == null ? null : next.get(q);
            if (want != null) {
                if (gaps.contains(q) || m.getQueueOffset() < want) continue;
                if (m.getQueueOffset() > want) {
                    gaps.add(q);
                    continue;
                }
                next.put(q, m.getQueueOffset() + 1);
            }
            out.add(m);
        }
        for (MessageQueue q : gaps) {
            long want = next.get(q);
            System.err.println("ferry-peer: " + q + " jumped past offset " + want + "; seeking back");
            retry("seek " + q, () -> {
                c.seek(q, want);
                return null;
            });
        }
        return out;
    }

    private static int benchPull(Args a) throws Exception {
        a.allow("namesrv", "topic", "count", "ak", "sk", "pull-batch", "pull-threads", "timeout-ms");
        String topic = a.req("topic");
        int count = a.intOr("count", 10_000);
        // The broker caps one pull at maxTransferCountOnMessageInMemory (32) messages / 256 KiB by
        // default, in both 4.9.7 and 5.3.3; a larger client batch only helps on re-tuned brokers.
        int pullBatch = a.intOr("pull-batch", 32);
        int pullThreads = a.intOr("pull-threads", 4);
        long timeoutMs = a.intOr("timeout-ms", 120_000);
        DefaultLitePullConsumer c = newPullConsumer(a, pullBatch, pullThreads);
        long seen = 0;
        long bytes = 0;
        // The lite consumer may deliver a batch twice around the initial seek (a pull started before
        // it); each stored message is counted once.
        Set<String> distinct = new HashSet<>();
        try {
            Map<MessageQueue, Long> next = assignAll(c, topic, "earliest", hook(a));
            Collection<MessageQueue> mqs = next.keySet();
            long t0 = System.nanoTime();
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (seen < count && System.currentTimeMillis() < deadline) {
                for (MessageExt m : pollInOrder(c, next, 200)) {
                    if (!distinct.add(m.getBrokerName() + "/" + m.getQueueId() + "/" + m.getQueueOffset())) continue;
                    seen++;
                    if (m.getBody() != null) bytes += m.getBody().length;
                }
            }
            long ns = System.nanoTime() - t0;
            emit(new Json()
                .dbl("msgsPerSec", seen / (ns / 1e9))
                .num("count", seen)
                .dbl("elapsedMs", ns / 1e6)
                .num("bytes", bytes)
                .num("queues", mqs.size())
                .num("pullBatchSize", pullBatch)
                .num("pullThreads", pullThreads));
        } finally {
            shutdownBounded("consumer", c::shutdown);
        }
        if (seen < count) throw new Failure("timed out: pulled " + seen + " of " + count + " messages");
        return 0;
    }

    // ---------------------------------------------------------------- replication pipe

    /** Property bench-pipe adds to every forwarded message: the source storeTimestamp (ms). */
    static final String PIPE_STORE_TS = "FERRY_PIPE_STORE_TS";
    /**
     * Properties bench-pipe does not copy: the client's own reserved names (MessageConst.STRING_HASH_SET,
     * which putUserProperty refuses), plus the names only the 5.3.3 client reserves or that steer the
     * broker (transactions, LMQ dispatch, inner batches), so the pipe copies the same set whichever
     * client it is compiled against. Names starting with "__RMQ.TRANSIENT." are skipped as well.
     */
    static final Set<String> PIPE_SKIPPED_PROPERTIES = new HashSet<>(MessageConst.STRING_HASH_SET);
    static final String TRANSIENT_PROPERTY_PREFIX = "__RMQ.TRANSIENT.";
    /** Bytes of bodies per batch send; well under the brokers' default maxMessageSize (4 MiB). */
    static final int PIPE_BATCH_BYTES = 1 << 20;

    static {
        PIPE_SKIPPED_PROPERTIES.addAll(Arrays.asList(
            // 5.3.3 STRING_HASH_SET entries that 4.9.7's lacks
            "1ST_POP_TIME", "BORN_TIMESTAMP", "DLQ_ORIGIN_MESSAGE_ID", "DLQ_ORIGIN_TOPIC", "DUP_INFO", "EXTEND_UNIQ_INFO",
            "POP_CK", "POP_CK_OFFSET", "TIMER_DELAY_LEVEL", "TIMER_DELAY_MS", "TIMER_DELAY_SEC", "TIMER_DELIVER_MS",
            "TIMER_DEL_UNIQKEY", "TIMER_DEQUEUE_MS", "TIMER_ENQUEUE_MS", "TIMER_OUT_MS", "TIMER_ROLL_TIMES",
            "TRAN_PREPARED_QUEUE_OFFSET", "__BORNHOST", "__CRC32#",
            // system properties outside either STRING_HASH_SET
            "TRANSACTION_CHECK_TIMES", "CHECK_IMMUNITY_TIME_IN_SECONDS", "__transactionId__", "INNER_NUM", "INNER_BASE",
            "INNER_MULTI_DISPATCH", "PROPERTY_FORWARD_QUEUE_ID", "REDIRECT"));
    }

    /** Batches a pipe sender may have queued per destination queue before the poll loop waits. */
    static final int PIPE_QUEUED_BATCHES_PER_QUEUE = 8;

    private static int benchPipe(Args a) throws Exception {
        a.allow("src-namesrv", "dst-namesrv", "topic", "count", "pull-batch", "pull-threads", "send-batch", "duration-ms", "from",
            "src-ak", "src-sk", "dst-ak", "dst-sk", "send-timeout-ms", "ready-file");
        String srcNamesrv = a.req("src-namesrv");
        String dstNamesrv = a.req("dst-namesrv");
        String topic = a.req("topic");
        a.req("count");
        final int count = a.intOr("count", 0);
        if (count <= 0) throw new UsageError("--count must be positive");
        final int pullBatch = Math.max(1, a.intOr("pull-batch", 32));
        final int pullThreads = Math.max(1, a.intOr("pull-threads", 20));
        final int sendBatch = Math.max(1, a.intOr("send-batch", 32));
        final long durationMs = a.intOr("duration-ms", 600_000);
        if (durationMs <= 0) throw new UsageError("--duration-ms must be positive");
        final String from = a.opt("from") != null ? a.opt("from") : "latest";
        if (!from.equals("latest") && !from.equals("earliest")) throw new UsageError("--from must be earliest or latest");
        String readyFile = a.opt("ready-file");
        RPCHook srcHook = hook(a.opt("src-ak"), a.opt("src-sk"), "--src-ak and --src-sk");
        RPCHook dstHook = hook(a.opt("dst-ak"), a.opt("dst-sk"), "--dst-ak and --dst-sk");

        String cgroup = "ferry_pipe_c_" + uniq();
        DefaultLitePullConsumer c = srcHook != null ? new DefaultLitePullConsumer(cgroup, srcHook) : new DefaultLitePullConsumer(cgroup);
        c.setNamesrvAddr(srcNamesrv);
        c.setInstanceName(cgroup);
        c.setVipChannelEnabled(false);
        c.setAutoCommit(false); // a throwaway group: nothing is committed
        c.setConsumeFromWhere(from.equals("earliest") ? ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET : ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
        c.setPullBatchSize(pullBatch);
        // The lite consumer's pulls are blocking long polls (held up to 20 s by the broker on an idle
        // queue), one pool thread each: fewer threads than queues starves the queues left waiting.
        c.setPullThreadNums(pullThreads);

        String pgroup = "ferry_pipe_p_" + uniq();
        DefaultMQProducer p = dstHook != null ? new DefaultMQProducer(pgroup, dstHook) : new DefaultMQProducer(pgroup);
        p.setNamesrvAddr(dstNamesrv);
        p.setInstanceName(pgroup);
        p.setVipChannelEnabled(false);
        p.setSendMsgTimeout(a.intOr("send-timeout-ms", 10_000));

        final PipeStats stats = new PipeStats();
        // One sender thread per destination queue: batches of a queue are sent one after another, so
        // per-queue order holds, while the queues are sent concurrently.
        Map<Integer, PipeSender> senders = new HashMap<>();
        long dispatched = 0;
        long reseeks = 0;
        long readyNs = 0;
        long firstNs = -1;
        int queueCount = 0;
        try {
            long t0 = System.nanoTime();
            p.start();
            // Destination queues by id; with several destination brokers the first (by name) holding the id wins.
            Map<Integer, MessageQueue> dstQueues = new TreeMap<>();
            List<MessageQueue> published = new ArrayList<>(retry("fetch destination queues of " + topic, () -> {
                List<MessageQueue> l = p.fetchPublishMessageQueues(topic);
                if (l == null || l.isEmpty()) throw new Failure("destination topic " + topic + " has no writable queues");
                return l;
            }));
            published.sort(Comparator.comparing(MessageQueue::getBrokerName).thenComparingInt(MessageQueue::getQueueId));
            for (MessageQueue mq : published) dstQueues.putIfAbsent(mq.getQueueId(), mq);

            c.start();
            Collection<MessageQueue> srcQueues = retry("fetch source queues of " + topic, () -> c.fetchMessageQueues(topic));
            if (srcQueues.isEmpty()) throw new Failure("source topic " + topic + " has no readable queues");
            for (MessageQueue mq : srcQueues) {
                if (!dstQueues.containsKey(mq.getQueueId())) {
                    throw new Failure("destination topic " + topic + " has no queue " + mq.getQueueId() + " (source queue " + mq + ")");
                }
                senders.computeIfAbsent(mq.getQueueId(), id -> new PipeSender(p, dstQueues.get(id), sendBatch, stats));
            }
            queueCount = srcQueues.size();
            if (queueCount > pullThreads) System.err.println("ferry-peer: " + queueCount + " queues but " + pullThreads + " pull threads: idle queues will hold up others");
            c.assign(srcQueues);
            // The consumer's own client instance (same config, so same client id) answers min/max offsets.
            MQAdminImpl srcAdmin = MQClientManager.getInstance().getOrCreateMQClientInstance(c, srcHook).getMQAdminImpl();
            // Next source offset to forward, per queue: starts at the queue's max (latest) or min
            // (earliest) offset now, and drops anything older the consumer may still deliver (pulled
            // before the seek, or re-pulled).
            Map<MessageQueue, Long> next = new HashMap<>();
            for (MessageQueue mq : srcQueues) {
                long start = retry("start offset of " + mq, () -> from.equals("earliest") ? srcAdmin.minOffset(mq) : srcAdmin.maxOffset(mq));
                retry("seek " + mq, () -> {
                    c.seek(mq, start);
                    return null;
                });
                next.put(mq, start);
            }
            readyNs = System.nanoTime();
            System.err.printf("ferry-peer: timings: jvm-to-main %d ms, pipe setup %d ms; start offsets (%s) %s%n",
                jvmToMainMs, (readyNs - t0) / 1_000_000, from, new TreeMap<>(next.entrySet().stream()
                    .collect(java.util.stream.Collectors.toMap(e -> e.getKey().getBrokerName() + "/" + e.getKey().getQueueId(), Map.Entry::getValue))));
            if (readyFile != null) {
                Path ready = Path.of(readyFile);
                Path tmp = Path.of(readyFile + ".tmp");
                Files.write(tmp, "ready\n".getBytes(StandardCharsets.US_ASCII));
                Files.move(tmp, ready, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }

            final long second = 1_000_000_000L;
            long deadline = readyNs + durationMs * 1_000_000L;
            long nextTick = readyNs + second;
            while (stats.forwarded.get() < count) {
                Throwable failed = stats.failure.get();
                if (failed instanceof Exception) throw (Exception) failed;
                if (failed != null) throw new Failure("sender failed: " + failed);
                long now = System.nanoTime();
                if (now >= deadline) break;
                if (now >= nextTick) {
                    emit(new Json().num("forwarded", stats.forwarded.get()).num("elapsedMs", (now - readyNs) / 1_000_000));
                    while (nextTick <= now) nextTick += second;
                }
                long waitMs = Math.max(1, Math.min(200, (Math.min(nextTick, deadline) - now) / 1_000_000));
                if (dispatched >= count) {
                    Thread.sleep(Math.min(waitMs, 5)); // everything is handed to the senders; wait for their acks
                    continue;
                }
                // One poll returns one pull result: up to pullBatch messages of one source queue.
                List<MessageExt> polled = c.poll(waitMs);
                if (polled.isEmpty()) continue;
                if (firstNs < 0) firstNs = System.nanoTime();
                Map<MessageQueue, List<MessageExt>> byQueue = new LinkedHashMap<>();
                Set<MessageQueue> gaps = new HashSet<>();
                for (MessageExt m : polled) {
                    MessageQueue src = sourceQueue(next.keySet(), m);
                    Long want = src == null ? null : next.get(src);
                    if (want == null || gaps.contains(src) || m.getQueueOffset() < want) continue;
                    if (m.getQueueOffset() > want) {
                        gaps.add(src);
                        continue;
                    }
                    next.put(src, m.getQueueOffset() + 1);
                    byQueue.computeIfAbsent(src, k -> new ArrayList<>()).add(m);
                }
                // The lite consumer can skip a batch: a pull task cancelled by seek() may still take the
                // seek offset, and its replacement then starts at the old pull offset. Offsets in a
                // queue are contiguous, so a jump means messages were skipped: seek back to them.
                for (MessageQueue src : gaps) {
                    long want = next.get(src);
                    reseeks++;
                    System.err.println("ferry-peer: " + src + " jumped past offset " + want + "; seeking back");
                    retry("seek " + src, () -> {
                        c.seek(src, want);
                        return null;
                    });
                }
                for (Map.Entry<MessageQueue, List<MessageExt>> e : byQueue.entrySet()) {
                    PipeSender sender = senders.get(e.getKey().getQueueId());
                    List<Message> chunk = new ArrayList<>(sendBatch);
                    int chunkBytes = 0;
                    for (MessageExt m : e.getValue()) {
                        if (dispatched + chunk.size() >= count) break;
                        Message out = pipeCopy(m, topic);
                        int size = out.getBody() != null ? out.getBody().length : 0;
                        if (!chunk.isEmpty() && (chunk.size() >= sendBatch || chunkBytes + size > PIPE_BATCH_BYTES)) {
                            dispatched += chunk.size();
                            sender.submit(chunk);
                            chunk = new ArrayList<>(sendBatch);
                            chunkBytes = 0;
                        }
                        chunk.add(out);
                        chunkBytes += size;
                    }
                    if (!chunk.isEmpty()) {
                        dispatched += chunk.size();
                        sender.submit(chunk);
                    }
                }
            }
        } finally {
            for (PipeSender s : senders.values()) s.stop();
            long endNs = System.nanoTime();
            if (readyNs > 0) {
                long last = stats.lastNs.get();
                double activeNs = firstNs >= 0 && last > firstNs ? last - firstNs : Double.NaN;
                emit(new Json()
                    .dbl("msgsPerSec", stats.forwarded.get() / (activeNs / 1e9))
                    .num("count", stats.forwarded.get())
                    .dbl("elapsedMs", (endNs - readyNs) / 1e6)
                    .dbl("activeMs", activeNs / 1e6)
                    .num("queues", queueCount)
                    .num("pullBatch", pullBatch)
                    .num("pullThreads", pullThreads)
                    .num("sendBatch", sendBatch)
                    .num("sendCalls", stats.sendCalls.get())
                    .num("sendRetries", stats.sendRetries.get())
                    .num("reseeks", reseeks));
            }
            shutdownBounded("consumer", c::shutdown);
            shutdownBounded("producer", p::shutdown);
        }
        if (stats.forwarded.get() < count) {
            System.err.println("ferry-peer: pipe stopped after " + durationMs + " ms with " + stats.forwarded.get() + " of " + count + " forwarded");
            return 1;
        }
        return 0;
    }

    /** What the pipe's sender threads did, read by the poll loop. */
    static final class PipeStats {
        final AtomicLong forwarded = new AtomicLong();
        final AtomicLong sendCalls = new AtomicLong();
        final AtomicLong sendRetries = new AtomicLong();
        final AtomicLong lastNs = new AtomicLong(-1);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
    }

    /**
     * One destination queue's sender: a thread sending, in order, the batches the poll loop hands it;
     * batches that waited while a send was in flight go out merged (up to maxBatch messages and
     * PIPE_BATCH_BYTES). The poll loop waits while PIPE_QUEUED_BATCHES_PER_QUEUE are queued.
     */
    static final class PipeSender implements Runnable {
        private final DefaultMQProducer producer;
        private final MessageQueue dst;
        private final int maxBatch;
        private final PipeStats stats;
        private final BlockingQueue<List<Message>> waiting = new ArrayBlockingQueue<>(PIPE_QUEUED_BATCHES_PER_QUEUE);
        private final Thread thread;
        private volatile boolean stopped;

        PipeSender(DefaultMQProducer producer, MessageQueue dst, int maxBatch, PipeStats stats) {
            this.producer = producer;
            this.dst = dst;
            this.maxBatch = maxBatch;
            this.stats = stats;
            this.thread = new Thread(this, "ferry-pipe-send-" + dst.getQueueId());
            this.thread.setDaemon(true);
            this.thread.start();
        }

        /** Queues a batch, waiting while the queue is full (unless a sender failed: then that failure). */
        void submit(List<Message> batch) throws InterruptedException {
            while (!waiting.offer(batch, 100, TimeUnit.MILLISECONDS)) {
                Throwable failed = stats.failure.get();
                if (failed != null) throw new Failure("a sender failed: " + String.valueOf(failed).split("\n")[0]);
            }
        }

        void stop() {
            stopped = true;
            thread.interrupt();
        }

        @Override
        public void run() {
            try {
                while (!stopped) {
                    List<Message> first = waiting.poll(100, TimeUnit.MILLISECONDS);
                    if (first == null) continue;
                    List<Message> batch = new ArrayList<>(first);
                    int bytes = bodyBytes(first);
                    for (List<Message> more = waiting.peek(); more != null; more = waiting.peek()) {
                        int moreBytes = bodyBytes(more);
                        if (batch.size() + more.size() > maxBatch || bytes + moreBytes > PIPE_BATCH_BYTES) break;
                        waiting.poll();
                        batch.addAll(more);
                        bytes += moreBytes;
                    }
                    stats.sendRetries.addAndGet(pipeSend(producer, batch, dst));
                    stats.sendCalls.incrementAndGet();
                    stats.forwarded.addAndGet(batch.size());
                    stats.lastNs.set(System.nanoTime());
                }
            } catch (InterruptedException e) {
                // stopped
            } catch (Throwable e) {
                stats.failure.compareAndSet(null, e);
            }
        }

        private static int bodyBytes(List<Message> msgs) {
            int n = 0;
            for (Message m : msgs) n += m.getBody() != null ? m.getBody().length : 0;
            return n;
        }
    }

    /** The assigned source queue a polled message came from (by broker name and queue id; id alone if no name). */
    private static MessageQueue sourceQueue(Collection<MessageQueue> assigned, MessageExt m) {
        MessageQueue byId = null;
        for (MessageQueue mq : assigned) {
            if (mq.getQueueId() != m.getQueueId()) continue;
            if (m.getBrokerName() != null && m.getBrokerName().equals(mq.getBrokerName())) return mq;
            if (m.getBrokerName() == null && byId == null) byId = mq;
        }
        return byId;
    }

    /** The message to send on: same topic, body, flag, tags, keys and user properties, plus PIPE_STORE_TS. */
    static Message pipeCopy(MessageExt m, String topic) {
        Message out = new Message(topic, m.getBody() != null ? m.getBody() : new byte[0]);
        out.setFlag(m.getFlag());
        if (m.getTags() != null) out.setTags(m.getTags());
        if (m.getKeys() != null) out.setKeys(m.getKeys());
        if (m.getProperties() != null) {
            for (Map.Entry<String, String> e : m.getProperties().entrySet()) {
                String k = e.getKey();
                if (k == null || e.getValue() == null || PIPE_SKIPPED_PROPERTIES.contains(k) || k.startsWith(TRANSIENT_PROPERTY_PREFIX)) continue;
                if (k.equals(PIPE_STORE_TS)) continue;
                // Unchecked put: a blank value is a legal stored property but putUserProperty refuses it.
                MessageAccessor.putProperty(out, k, e.getValue());
            }
        }
        MessageAccessor.putProperty(out, PIPE_STORE_TS, Long.toString(m.getStoreTimestamp()));
        return out;
    }

    /** ResponseCode.SYSTEM_BUSY (its class lives in different packages in 4.9.7 and 5.3.3). */
    static final int SYSTEM_BUSY = 2;

    /**
     * One send of `msgs` to `mq` (a batch when more than one). A busy broker (flow control: nothing
     * stored) is waited out; other failures are retried up to 3 times, and a retry after an unknown
     * outcome (timeout) may store the messages twice. Returns the number of retries.
     */
    private static int pipeSend(DefaultMQProducer p, List<Message> msgs, MessageQueue mq) throws Exception {
        int busy = 0;
        for (int attempt = 1; ; attempt++) {
            try {
                SendResult r = msgs.size() == 1 ? p.send(msgs.get(0), mq) : p.send(msgs, mq);
                if (r.getSendStatus() != SendStatus.SEND_OK) {
                    System.err.println("ferry-peer: send to " + mq + " stored with status " + r.getSendStatus());
                }
                return attempt - 1;
            } catch (InterruptedException e) {
                throw e;
            } catch (MQBrokerException e) {
                if (e.getResponseCode() != SYSTEM_BUSY) {
                    if (attempt - busy >= 3) throw e;
                    System.err.println("ferry-peer: send of " + msgs.size() + " to " + mq + " failed (attempt " + attempt + "), retrying: "
                        + String.valueOf(e).split("\n")[0]);
                    Thread.sleep(200L * (attempt - busy));
                } else {
                    busy++;
                    Thread.sleep(Math.min(1000L, 20L * busy));
                }
            } catch (Exception e) {
                if (attempt - busy >= 3) throw e;
                System.err.println("ferry-peer: send of " + msgs.size() + " to " + mq + " failed (attempt " + attempt + "), retrying: "
                    + String.valueOf(e).split("\n")[0]);
                Thread.sleep(200L * (attempt - busy));
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Shuts a client down (unregistering it from the brokers) but waits at most 1 s: the 5.3.3 client
     * sometimes spends seconds in shutdown, and the JVM halts right after anyway.
     */
    private static void shutdownBounded(String what, Runnable shutdown) throws InterruptedException {
        long t0 = System.nanoTime();
        Thread t = new Thread(shutdown, "ferry-shutdown");
        t.setDaemon(true);
        t.start();
        t.join(1000);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (t.isAlive()) System.err.println("ferry-peer: " + what + " shutdown still running after " + ms + " ms; exiting anyway");
        else System.err.println("ferry-peer: timings: " + what + " shutdown " + ms + " ms");
    }

    private static RPCHook hook(Args a) {
        return hook(a.opt("ak"), a.opt("sk"), "--ak and --sk");
    }

    private static RPCHook hook(String ak, String sk, String names) {
        if (ak == null && sk == null) return null;
        if (ak == null || sk == null) throw new UsageError(names + " go together");
        return new AclClientRPCHook(new SessionCredentials(ak, sk));
    }

    private static String uniq() {
        return ProcessHandle.current().pid() + "_" + Long.toString(System.nanoTime(), 36);
    }

    /** "{i}" in texts, tags, keys and property values becomes the message index. */
    static String subst(String s, int i) {
        Matcher m = INDEX_MOD.matcher(s.replace("{i}", Integer.toString(i)));
        StringBuilder sb = new StringBuilder();
        while (m.find()) m.appendReplacement(sb, Integer.toString(Math.floorMod(i, Integer.parseInt(m.group(1)))));
        m.appendTail(sb);
        return sb.toString();
    }

    /** "{i%N}": the message index mod N. */
    private static final Pattern INDEX_MOD = Pattern.compile("\\{i%([1-9][0-9]*)\\}");

    static int parseInt(String option, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageError(option + " expects an integer, got " + v);
        }
    }

    private static synchronized void emit(Json j) {
        out.println(j.end());
        out.flush();
    }

    /** `--key value` arguments; a key may repeat (all()), a few are valueless flags. */
    static final class Args {
        private static final Set<String> FLAGS = new HashSet<>(Arrays.asList("body-random", "message-group", "later"));
        private final Map<String, List<String>> values = new LinkedHashMap<>();

        Args(String[] argv) {
            for (int i = 0; i < argv.length; i++) {
                String k = argv[i];
                if (!k.startsWith("--") || k.length() == 2) throw new UsageError("expected --key, got " + k);
                k = k.substring(2);
                String v;
                if (FLAGS.contains(k)) v = "true";
                else if (i + 1 < argv.length) v = argv[++i];
                else throw new UsageError("--" + k + " needs a value");
                values.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
            }
        }

        void allow(String... keys) {
            List<String> ok = Arrays.asList(keys);
            for (String k : values.keySet()) if (!ok.contains(k)) throw new UsageError("unknown option --" + k);
        }

        boolean has(String k) {
            return values.containsKey(k);
        }

        boolean flag(String k) {
            return values.containsKey(k);
        }

        String opt(String k) {
            List<String> v = values.get(k);
            return v == null ? null : v.get(v.size() - 1);
        }

        List<String> all(String k) {
            return values.getOrDefault(k, new ArrayList<>());
        }

        String req(String k) {
            String v = opt(k);
            if (v == null) throw new UsageError("--" + k + " is required");
            return v;
        }

        int intOr(String k, int dflt) {
            String v = opt(k);
            if (v == null) return dflt;
            try {
                return Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw new UsageError("--" + k + " expects an integer, got " + v);
            }
        }
    }

    /** One flat JSON object, built in order; strings escaped to pure ASCII. */
    static final class Json {
        private final StringBuilder sb = new StringBuilder("{");

        private Json key(String k) {
            if (sb.length() > 1) sb.append(',');
            quote(sb, k);
            sb.append(':');
            return this;
        }

        Json str(String k, String v) {
            key(k);
            if (v == null) sb.append("null");
            else quote(sb, v);
            return this;
        }

        Json num(String k, long v) {
            key(k);
            sb.append(v);
            return this;
        }

        Json dbl(String k, double v) {
            key(k);
            if (Double.isNaN(v) || Double.isInfinite(v)) sb.append("null");
            else sb.append(Math.round(v * 1000) / 1000.0);
            return this;
        }

        Json map(String k, Map<String, String> m) {
            key(k);
            sb.append('{');
            boolean first = true;
            for (Map.Entry<String, String> e : m.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                quote(sb, e.getKey());
                sb.append(':');
                if (e.getValue() == null) sb.append("null");
                else quote(sb, e.getValue());
            }
            sb.append('}');
            return this;
        }

        String end() {
            return sb.toString() + "}";
        }

        static void quote(StringBuilder sb, String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"': sb.append("\\\""); break;
                    case '\\': sb.append("\\\\"); break;
                    case '\n': sb.append("\\n"); break;
                    case '\r': sb.append("\\r"); break;
                    case '\t': sb.append("\\t"); break;
                    case '\b': sb.append("\\b"); break;
                    case '\f': sb.append("\\f"); break;
                    default:
                        if (c < 0x20 || c > 0x7e) {
                            sb.append("\\u");
                            String h = Integer.toHexString(c);
                            for (int p = h.length(); p < 4; p++) sb.append('0');
                            sb.append(h);
                        } else {
                            sb.append(c);
                        }
                }
            }
            sb.append('"');
        }
    }
}
