"""Catches fishers record from the app, and the contact requests buyers send about them.

A catch belongs to one fisher (a `fisher` user) of one tenant, optionally to one of their
vessels. Its position is personal data of the fisher (where a fisher fishes is their livelihood):
only the fisher reads it back; the fisheries office sees catches only aggregated by area, species
and week with small groups suppressed (`kinds.fishfinder.api.catch_aggregates`), and the market
shows a catch offered for sale without who caught it or where.

A contact request is a buyer's message about a catch for sale, stored for the fisher to read:
the buyer never learns the fisher's name or phone number, and the fisher decides whether to answer.

Species are a fixed list of the commercially important ones of Indonesia's small-scale
fisheries, named as the Ministry of Marine Affairs and Fisheries (KKP) names them in its
production statistics (https://statistik.kkp.go.id, "Produksi Perikanan Tangkap per komoditas
utama": tongkol, cakalang, tuna, kakap, kerapu, cumi-cumi, tenggiri, lemuru, layang, kembung,
tembang, udang ...), with the FAO ASFIS names for reference
(https://www.fao.org/fishery/en/collection/asfis). A fixed list, not free text: aggregates by
species are only meaningful when everybody writes a species the same way.

Tables of the fishfinder's Alembic branch, revision ff0002 (positions nullable since ff0003).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from central.models import Base, UtcDateTime

#: code -> (KKP statistics name, FAO ASFIS English name and scientific name).
SPECIES: dict[str, tuple[str, str]] = {
    "tongkol": ("Tongkol", "Kawakawa, Euthynnus affinis (and frigate tunas, Auxis spp.)"),
    "cakalang": ("Cakalang", "Skipjack tuna, Katsuwonus pelamis"),
    "tuna_sirip_kuning": ("Tuna sirip kuning (madidihang)", "Yellowfin tuna, Thunnus albacares"),
    "tuna_mata_besar": ("Tuna mata besar", "Bigeye tuna, Thunnus obesus"),
    "kakap_merah": ("Kakap merah", "Red snappers, Lutjanus spp."),
    "kerapu": ("Kerapu", "Groupers, Epinephelus spp."),
    "cumi": ("Cumi-cumi", "Squids, Loligo spp."),
    "tenggiri": ("Tenggiri", "Narrow-barred Spanish mackerel, Scomberomorus commerson"),
    "lemuru": ("Lemuru", "Bali sardinella, Sardinella lemuru"),
    "layang": ("Layang", "Scads, Decapterus spp."),
    "kembung": ("Kembung", "Indian mackerels, Rastrelliger spp."),
    "tembang": ("Tembang", "Fringescale sardinella, Sardinella fimbriata"),
    "teri": ("Teri", "Anchovies, Stolephorus spp."),
    "layur": ("Layur", "Largehead hairtail, Trichiurus lepturus"),
    "udang": ("Udang", "Penaeid shrimps, Penaeus spp."),
}

#: Heaviest single catch record: a small-scale vessel (under 30 GT, KKP's small-scale class)
#: holds a few tonnes; anything above this is a typing error, not a catch.
MAX_WEIGHT_KG = 20_000.0
#: Dearest price per kg accepted (IDR): above any landed price of these species.
MAX_PRICE_IDR_PER_KG = 5_000_000
#: How far in the future a catch time may be (phone clocks drift); the gateway's default skew.
MAX_FUTURE_SKEW = timedelta(minutes=5)
#: Oldest catch accepted, relative to now: a fisher records a trip when back in port.
MAX_AGE = timedelta(days=60)
#: Contact requests one user may send about one catch: enough to follow up, too few to spam.
MAX_CONTACTS_PER_CATCH = 5


def check_catch_time(caught_at: datetime, now: datetime) -> None:
    """ValueError unless `caught_at` is aware and within [now - MAX_AGE, now + MAX_FUTURE_SKEW]."""
    if caught_at.tzinfo is None:
        raise ValueError("caught_at needs a UTC offset")
    if caught_at > now + MAX_FUTURE_SKEW:
        raise ValueError(f"caught_at is in the future (more than {MAX_FUTURE_SKEW.seconds // 60} min ahead of the server)")
    if caught_at < now - MAX_AGE:
        raise ValueError(f"caught_at is more than {MAX_AGE.days} days ago")


class Catch(Base):
    """One catch as the fisher recorded it."""

    __tablename__ = "catches"
    __table_args__ = (
        sa.Index("ix_catches_tenant_caught", "tenant_id", "caught_at"),
        sa.Index("ix_catches_fisher_caught", "fisher_id", "caught_at"),
        sa.CheckConstraint("weight_kg > 0", name="ck_catches_weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"))
    fisher_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    vessel_id: Mapped[str | None] = mapped_column(sa.ForeignKey("vessels.id"))
    species: Mapped[str] = mapped_column(sa.String(32))
    weight_kg: Mapped[float]
    #: Where it was caught; None once retention erased it (`state.enforce_retention`, ff0003).
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    caught_at: Mapped[datetime] = mapped_column(UtcDateTime())
    price_idr_per_kg: Mapped[int | None]
    port: Mapped[str] = mapped_column(sa.String(100))
    for_sale: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CatchContactRequest(Base):
    """A message to the fisher about a catch for sale, from a user of the same tenant."""

    __tablename__ = "catch_contact_requests"
    __table_args__ = (sa.Index("ix_catch_contact_requests_catch", "catch_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"))
    catch_id: Mapped[int] = mapped_column(sa.ForeignKey("catches.id"))
    from_user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(sa.Text())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
