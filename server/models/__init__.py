"""SQLAlchemy models: the single source of the schema (Alembic migrates it; the admin derives from it)."""

from server.models.accounts import AdminSession, Device, LoginFailure, User
from server.models.base import Base, SyncedRow
from server.models.kader import Kader
from server.models.musyawarah import Kehadiran, Musyawarah
from server.models.pengkajian import Pengkajian
from server.models.reference import Bidang
from server.models.review import Komentar
from server.models.sync import Conflict, History, ProcessedMutation, SyncClient, SyncCounter, SyncMeta
from server.models.usulan import Usulan
from server.models.wilayah import Dusun, Wilayah

__all__ = [
    "AdminSession",
    "Conflict",
    "History",
    "ProcessedMutation",
    "SyncClient",
    "SyncCounter",
    "SyncMeta",
    "Base",
    "Bidang",
    "Device",
    "Dusun",
    "Kader",
    "Kehadiran",
    "LoginFailure",
    "Komentar",
    "Musyawarah",
    "Pengkajian",
    "SyncedRow",
    "User",
    "Usulan",
    "Wilayah",
]
