package journey.store;

import java.util.List;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;

import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.Document;

/**
 * A collection's documents by `_id`, in MongoDB's order, so a find sorted by `_id` with a limit reads its page
 * from where the filter's bounds on `_id` start and stops after the page (walking a collection in pages:
 * `{ _id: { $gt: last } }` sorted by `_id`). The library serves such a find by matching and sorting every document,
 * which makes a walk through N documents cost N^2. Kept beside the collection's own storage, under the collection's lock
 * (every call comes from a synchronized collection method, or its constructor).
 */
final class IdOrder<P> {

    private static final Set<String> BOUNDS = Set.of("$gt", "$gte", "$lt", "$lte");

    private final ConcurrentSkipListMap<Object, P> positions = new ConcurrentSkipListMap<>(ValueComparator.asc());
    private final String idField;

    IdOrder(String idField) {
        this.idField = idField;
    }

    void added(Document document, P position) {
        if (idField != null) {
            positions.put(document.get(idField), position);
        }
    }

    void removed(Document document) {
        if (idField != null && document != null) {
            positions.remove(document.get(idField));
        }
    }

    /**
     * The positions a find should read, in its order: for a find with a limit, sorted by `_id` alone, that no index
     * serves (an index's lookup is smaller); null otherwise (the library's own path). Every document within the
     * filter's plain bounds on `_id` is among them; the collection checks each against the whole filter.
     */
    Iterable<P> inOrder(Document query, Document orderBy, int limit, List<? extends Index<P>> indexes) {
        if (idField == null || limit <= 0 || orderBy == null || orderBy.size() != 1 || !(orderBy.get(idField) instanceof Number)) {
            return null;
        }
        int direction = ((Number) orderBy.get(idField)).intValue();
        if (direction != 1 && direction != -1) {
            return null;
        }
        for (Index<P> index : indexes) {
            if (index.canHandle(query)) {
                return null;
            }
        }
        NavigableMap<Object, P> range = positions;
        if (query.get(idField) instanceof Document) {
            Document condition = (Document) query.get(idField);
            if (BOUNDS.containsAll(condition.keySet())) {
                for (String operator : condition.keySet()) {
                    // Null, documents and lists match by type or whole value: no place in the map to start or stop.
                    Object bound = FilterKeys.plain(condition.get(operator));
                    if (bound == null) {
                        continue;
                    }
                    try {
                        switch (operator) {
                            case "$gt" -> range = range.tailMap(bound, false);
                            case "$gte" -> range = range.tailMap(bound, true);
                            case "$lt" -> range = range.headMap(bound, false);
                            default -> range = range.headMap(bound, true);
                        }
                    } catch (IllegalArgumentException crossed) {
                        // An upper bound below the lower one: the library's own path answers it.
                        return null;
                    }
                }
            }
        }
        return direction == 1 ? range.values() : range.descendingMap().values();
    }
}
