package journey.store;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.h2.mvstore.FileStore;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * The library's H2 MVStore backend, on a file, with indexes that serve the engine's filters (see Indexes), finds in
 * `_id` order (IdOrder), and durable acknowledgements: a write command answers only once its change is in the file.
 *
 * The rules that hold:
 * - Every write command commits before it answers. Commands that finish while a commit runs share the next one (group
 *   commit). The file is written, not fsynced: a write survives the store process being killed, not a power loss.
 * - Nothing else writes the file while data changes. The library updates a stored document object in place, and
 *   MVStore serializes those same objects when it writes a version, so a write of the file during an update could
 *   store half an update or fail. The store is opened without MVStore's background writer; write commands run under
 *   the shared side of `writes`, and commits and compactions under its exclusive side.
 * - Space of superseded versions is reclaimed by MVStore's compaction every 5 s (its background writer, which did
 *   that, is off).
 */
final class DurableH2Backend extends H2Backend {

    /** Commands that may change data (aggregate: its $out and $merge stages); the rest only read. In lower case. */
    private static final Set<String> WRITE_COMMANDS = Set.of(
        "insert", "update", "delete", "findandmodify", "createindexes", "dropindexes", "drop", "dropdatabase", "create",
        "renamecollection", "aggregate");
    private static final long COMPACT_EVERY_SECONDS = 5;
    /** Each compaction stops rewriting after this long (a step once begun finishes; writes wait meanwhile). */
    private static final int COMPACT_MAX_MS = 100;

    private final String description;
    private final ReentrantReadWriteLock writes = new ReentrantReadWriteLock();
    /** Write commands finished so far. */
    private final AtomicLong finished = new AtomicLong();
    private final Object commitLock = new Object();
    /** The first this-many finished write commands are in the file. Guarded by commitLock. */
    private long persisted;
    private final ScheduledExecutorService compactor = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "journey-store-compactor");
        thread.setDaemon(true);
        return thread;
    });

    /** `store` must be opened with MVStore's background writer off (autoCommitDisabled). */
    DurableH2Backend(MVStore store, String description) {
        super(store);
        this.description = description;
        compactor.scheduleWithFixedDelay(this::compact, COMPACT_EVERY_SECONDS, COMPACT_EVERY_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        return new H2Database(databaseName, getMvStore(), getCursorRegistry()) {
            @Override
            protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
                // The maps the library's H2Database opens for a collection (its names, as of the pinned release).
                String namespace = getFullCollectionNamespace(collectionName);
                MVMap<Object, Document> dataMap = getMvStore().openMap("databases." + namespace);
                MVMap<String, Object> metaMap = getMvStore().openMap("meta." + namespace);
                return new OrderedH2Collection(this, collectionName, options, dataMap, metaMap, getCursorRegistry());
            }

            @Override
            protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
                return Indexes.unique(super.openOrCreateUniqueIndex(collectionName, indexName, keys, sparse), sparse);
            }

            @Override
            protected Index<Object> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
                return Indexes.secondary(indexName, keys, sparse);
            }
        };
    }

    @Override
    public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
        if (!WRITE_COMMANDS.contains(command.toLowerCase(Locale.ROOT))) {
            return BuildInfo.describe(command, super.handleCommand(channel, databaseName, command, query), description);
        }
        writes.readLock().lock();
        try {
            return super.handleCommand(channel, databaseName, command, query);
        } finally {
            writes.readLock().unlock();
            // Also after a failed command: an unordered bulk write may have applied some of its statements.
            persist(finished.incrementAndGet());
        }
    }

    /** Returns once the first `count` finished write commands are in the file. */
    private void persist(long count) {
        synchronized (commitLock) {
            if (persisted >= count) {
                return;
            }
            // Every write command counted so far finished before this commit begins, so the commit holds its change.
            long covered = finished.get();
            exclusively(() -> getMvStore().commit());
            persisted = covered;
        }
    }

    /**
     * MVStore's own compaction: rewrites chunks whose live share fell below 90% (its autoCompactFillRate), frees
     * the dead ones and moves chunks to the front so the file can shrink. Without it every commit's chunk stays.
     */
    private void compact() {
        try {
            MVStore store = getMvStore();
            if (!store.isClosed()) {
                exclusively(() -> store.compactFile(COMPACT_MAX_MS));
            }
        } catch (RuntimeException e) {
            // The next turn tries again; the data is safe either way.
            System.err.println("journey-store: compaction failed: " + e);
        }
    }

    /** Runs a write of the file with no data change in progress, and returns once the file holds what it wrote. */
    private void exclusively(Runnable fileWrite) {
        writes.writeLock().lock();
        try {
            fileWrite.run();
            FileStore<?> file = getMvStore().getFileStore();
            if (file != null) {
                file.executeFileStoreOperation(() -> { });
            }
        } finally {
            writes.writeLock().unlock();
        }
    }

    @Override
    public void close() {
        compactor.shutdownNow();
        writes.writeLock().lock();
        try {
            super.close();
        } finally {
            writes.writeLock().unlock();
        }
    }
}
