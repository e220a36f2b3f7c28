"""Placeholder of the fish finder's API side, so that the API starts with the kind registered
(`kinds.api_router`); the API helper's branch replaces this file with the real router."""

from fastapi import APIRouter

ROUTER = APIRouter()
