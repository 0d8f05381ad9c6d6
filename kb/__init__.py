"""kb: a self-hosted knowledge base with semantic search over reports, cited to the paragraph.

    import kb
    stats = kb.build("reports", "index")            # incremental: only new text is embedded
    index = kb.load_index("index")
    for r in kb.search(index, kb.load_embedder(), "今年地区生产总值增长目标是多少", k=5):
        print(r.citation, r.text)

Heavy libraries (torch, faiss, jieba, bm25s) load inside the functions that need them,
so `import kb` and `kb --help` stay fast.
"""
from .build import BuildStats, build
from .chunking import Chunk, ChunkSettings
from .documents import Document, Paragraph, read_documents
from .embedding import Embedder, load_embedder
from .errors import KbError
from .evaluate import evaluate, read_questions
from .fusion import Fusion
from .provision import provision
from .scope import Filters, QueryError, make_filters
from .search import SearchResult, facets, search
from .compare import compare, timeline
from .store import Index
from .store import load_index

__version__ = "0.1.0"
__all__ = ["BuildStats", "Chunk", "ChunkSettings", "Document", "Embedder", "Filters", "Fusion", "Index",
           "KbError", "Paragraph", "QueryError", "SearchResult", "build", "compare", "evaluate", "facets",
           "load_embedder", "load_index", "make_filters", "provision", "read_documents", "read_questions", "search",
           "timeline"]
