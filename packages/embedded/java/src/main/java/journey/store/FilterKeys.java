package journey.store;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;

/**
 * The part of a filter an index can look up: a plain value for each of the index's keys, or, for an index of one
 * key, `{ $in: [plain values] }`. Anything else (ranges, regular expressions, null, which also matches a missing
 * field, sub-documents and arrays, which match by whole value) is left to the collection's own scan.
 */
final class FilterKeys {

    private FilterKeys() {
    }

    /**
     * One probe document per key combination the filter names (several for `$in`), holding only the index's keys; null
     * when the filter does not pin every key. Probes are documents so the index reads them as it reads stored ones,
     * through the library's own key extraction and normalization.
     */
    static List<Document> probes(Document filter, List<IndexKey> keys) {
        if (keys.size() == 1) {
            String key = keys.get(0).getKey();
            Object value = equality(filter.get(key));
            if (value != null) {
                return List.of(probe(key, value));
            }
            Collection<?> in = inList(filter.get(key));
            if (in == null) {
                return null;
            }
            List<Document> probes = new ArrayList<>(in.size());
            for (Object each : in) {
                probes.add(probe(key, each));
            }
            return probes;
        }
        Document probe = new Document();
        for (IndexKey indexKey : keys) {
            Object value = equality(filter.get(indexKey.getKey()));
            if (value == null) {
                return null;
            }
            put(probe, indexKey.getKey(), value);
        }
        return List.of(probe);
    }

    private static Document probe(String key, Object value) {
        Document probe = new Document();
        put(probe, key, value);
        return probe;
    }

    private static void put(Document document, String path, Object value) {
        int dot = path.indexOf('.');
        if (dot < 0) {
            document.put(path, value);
            return;
        }
        Object child = document.get(path.substring(0, dot));
        if (!(child instanceof Document)) {
            child = new Document();
            document.put(path.substring(0, dot), child);
        }
        put((Document) child, path.substring(dot + 1), value);
    }

    /** The value a filter entry requires by equality (`value` or `{ $eq: value }`), if it is plain; else null. */
    private static Object equality(Object value) {
        if (value instanceof Document) {
            Document operators = (Document) value;
            return operators.size() == 1 && operators.containsKey("$eq") ? plain(operators.get("$eq")) : null;
        }
        return plain(value);
    }

    private static Collection<?> inList(Object value) {
        if (!(value instanceof Document)) {
            return null;
        }
        Document operators = (Document) value;
        if (operators.size() != 1 || !(operators.get("$in") instanceof Collection)) {
            return null;
        }
        Collection<?> values = (Collection<?>) operators.get("$in");
        for (Object each : values) {
            if (plain(each) == null) {
                return null;
            }
        }
        return values;
    }

    /** `value` when an index can look it up (and an ordered map start at it); null when it matches otherwise. */
    static Object plain(Object value) {
        boolean plain = value != null
            && !(value instanceof Missing)
            && !(value instanceof Document)
            && !(value instanceof Collection)
            && !(value instanceof Pattern)
            && !BsonRegularExpression.isRegularExpression(value);
        return plain ? value : null;
    }
}
