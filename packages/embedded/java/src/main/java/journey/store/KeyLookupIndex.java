package journey.store;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.KeyConstraintError;

/**
 * A unique index (the library's own, which keeps the keys and enforces uniqueness) that also serves filters naming
 * more fields than its keys. The library consults an index only for a filter of exactly its keys, so
 * `{ _id, token, status }` scanned the collection. The collection checks every document an index returns against
 * the whole filter, so looking up by the keys alone and leaving the rest to that check is exact.
 */
final class KeyLookupIndex<P> extends Index<P> {

    private final Index<P> unique;

    KeyLookupIndex(Index<P> unique, boolean sparse) {
        super(unique.getName(), unique.getKeys(), sparse);
        this.unique = unique;
    }

    @Override
    public boolean canHandle(Document query) {
        return FilterKeys.probes(query, getKeys()) != null;
    }

    @Override
    public Iterable<P> getPositions(Document query) {
        List<Document> probes = FilterKeys.probes(query, getKeys());
        if (probes.size() > 1) {
            // `$in`: each probe is a document of one key value, which the unique index resolves to its one position.
            Set<P> positions = new LinkedHashSet<>();
            for (Document probe : probes) {
                P position = unique.getPosition(probe);
                if (position != null) {
                    positions.add(position);
                }
            }
            return positions;
        }
        P position = unique.getPosition(probes.get(0));
        return position == null ? List.of() : List.of(position);
    }

    @Override
    public P getPosition(Document document) {
        return unique.getPosition(document);
    }

    @Override
    public void checkAdd(Document document, MongoCollection<P> collection) {
        unique.checkAdd(document, collection);
    }

    @Override
    public void add(Document document, P position, MongoCollection<P> collection) {
        unique.add(document, position, collection);
    }

    @Override
    public P remove(Document document) {
        return unique.remove(document);
    }

    @Override
    public long getCount() {
        return unique.getCount();
    }

    @Override
    public boolean isEmpty() {
        return unique.isEmpty();
    }

    @Override
    public long getDataSize() {
        return unique.getDataSize();
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<P> collection) {
        unique.checkUpdate(oldDocument, newDocument, collection);
    }

    @Override
    public void updateInPlace(Document oldDocument, Document newDocument, P position, MongoCollection<P> collection) throws KeyConstraintError {
        unique.updateInPlace(oldDocument, newDocument, position, collection);
    }

    @Override
    public void drop() {
        unique.drop();
    }

    @Override
    public boolean isUnique() {
        return true;
    }
}
