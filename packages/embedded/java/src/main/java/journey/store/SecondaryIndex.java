package journey.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.bson.Document;

/**
 * A non-unique index (the library keeps none: it registers an empty one that serves nothing). Held in memory and
 * rebuilt from the documents when the store opens, as the library builds any index it registers on a collection.
 * Entries are kept by the document's `_id` under each key value, so an update or a removal finds its entry from the
 * document alone. Writes to it happen under the collection's lock, like every write of the library's collections.
 */
final class SecondaryIndex<P> extends Index<P> {

    private static final String ID_FIELD = "_id";

    private final Map<KeyValue, Map<Object, P>> entries = new ConcurrentHashMap<>();
    private final AtomicLong count = new AtomicLong();

    SecondaryIndex(String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
    }

    @Override
    public boolean canHandle(Document query) {
        return FilterKeys.probes(query, getKeys()) != null;
    }

    @Override
    public Iterable<P> getPositions(Document query) {
        // A copy: the caller may change the collection (and so this index) while it goes through the positions.
        List<P> positions = new ArrayList<>();
        for (Document probe : FilterKeys.probes(query, getKeys())) {
            for (KeyValue key : getKeyValues(probe)) {
                Map<Object, P> found = entries.get(key);
                if (found != null) {
                    positions.addAll(found.values());
                }
            }
        }
        return positions;
    }

    /** Only the unique `_id` index tells a document's position. */
    @Override
    public P getPosition(Document document) {
        return null;
    }

    @Override
    public void checkAdd(Document document, MongoCollection<P> collection) {
    }

    @Override
    public void add(Document document, P position, MongoCollection<P> collection) {
        Object id = document.get(ID_FIELD);
        for (KeyValue key : getKeyValues(document)) {
            if (entries.computeIfAbsent(key, k -> new ConcurrentHashMap<>(2)).put(id, position) == null) {
                count.incrementAndGet();
            }
        }
    }

    @Override
    public P remove(Document document) {
        Object id = document.get(ID_FIELD);
        List<P> removed = new ArrayList<>(1);
        for (KeyValue key : getKeyValues(document)) {
            entries.computeIfPresent(key, (k, byId) -> {
                P position = byId.remove(id);
                if (position != null) {
                    removed.add(position);
                    count.decrementAndGet();
                }
                return byId.isEmpty() ? null : byId;
            });
        }
        return removed.isEmpty() ? null : removed.get(0);
    }

    @Override
    public long getCount() {
        return count.get();
    }

    @Override
    public long getDataSize() {
        return count.get();
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<P> collection) {
    }

    @Override
    public void updateInPlace(Document oldDocument, Document newDocument, P position, MongoCollection<P> collection) {
        if (!nullAwareEqualsKeys(oldDocument, newDocument)) {
            remove(oldDocument);
            add(newDocument, position, collection);
        }
    }

    @Override
    public void drop() {
        entries.clear();
        count.set(0);
    }
}
