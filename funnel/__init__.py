"""Funnel: conversion-funnel analytics for small businesses."""

__version__ = "0.1.0"
