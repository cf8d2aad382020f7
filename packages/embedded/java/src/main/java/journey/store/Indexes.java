package journey.store;

import java.util.List;

import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;

/** The two index factories both backends' databases override (the library's hooks for a backend's indexes). */
final class Indexes {

    private Indexes() {
    }

    static <P> Index<P> unique(Index<P> libraryIndex, boolean sparse) {
        return new KeyLookupIndex<>(libraryIndex, sparse);
    }

    static <P> Index<P> secondary(String indexName, List<IndexKey> keys, boolean sparse) {
        return new SecondaryIndex<>(indexName, keys, sparse);
    }
}
