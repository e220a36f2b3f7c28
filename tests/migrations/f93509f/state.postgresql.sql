--
-- PostgreSQL database dump
--

\restrict l1e50lLGIWPI3nkLlttwBSsYVWKDFRie9h34FpjGCFQtxjoHJANKGSrUSpdIISI

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: tepi_f93509f; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA tepi_f93509f;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: alert_events; Type: TABLE; Schema: tepi_f93509f; Owner: -
--

CREATE TABLE tepi_f93509f.alert_events (
    seq bigint NOT NULL,
    alert_id integer NOT NULL,
    tenant_id character varying(64) NOT NULL,
    station_id character varying(64) NOT NULL,
    alert_type character varying(32) NOT NULL,
    kind character varying(32) NOT NULL,
    revision integer NOT NULL,
    at timestamp with time zone NOT NULL,
    recorded_at timestamp with time zone NOT NULL,
    who character varying(200),
    payload json NOT NULL,
    CONSTRAINT ck_alert_events_kind CHECK (((kind)::text = ANY ((ARRAY['opened'::character varying, 'updated'::character varying, 'escalated'::character varying, 'acknowledged'::character varying, 'cleared'::character varying, 'closed'::character varying, 'forecast_refined'::character varying, 'cancelled'::character varying])::text[])))
);


--
-- Name: alert_events_seq_seq; Type: SEQUENCE; Schema: tepi_f93509f; Owner: -
--

CREATE SEQUENCE tepi_f93509f.alert_events_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: alert_events_seq_seq; Type: SEQUENCE OWNED BY; Schema: tepi_f93509f; Owner: -
--

ALTER SEQUENCE tepi_f93509f.alert_events_seq_seq OWNED BY tepi_f93509f.alert_events.seq;


--
-- Name: alerts; Type: TABLE; Schema: tepi_f93509f; Owner: -
--

CREATE TABLE tepi_f93509f.alerts (
    id integer NOT NULL,
    tenant_id character varying(64) NOT NULL,
    station_id character varying(64) NOT NULL,
    type character varying(32) NOT NULL,
    severity character varying(16) NOT NULL,
    siaga integer NOT NULL,
    peak_siaga integer NOT NULL,
    rate_cm_per_h double precision,
    status character varying(16) NOT NULL,
    revision integer NOT NULL,
    opened_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    acknowledged_at timestamp with time zone,
    acknowledged_by character varying(200),
    cleared_at timestamp with time zone,
    cleared_by character varying(200),
    clear_reason character varying(32),
    closed_at timestamp with time zone,
    closed_by character varying(200),
    last_level_cm double precision,
    upstream_station_id character varying(64),
    upstream_siaga integer,
    upstream_level_cm double precision,
    expected_from timestamp with time zone,
    expected_until timestamp with time zone,
    last_arrival_at timestamp with time zone,
    CONSTRAINT ck_alerts_severity CHECK (((severity)::text = ANY ((ARRAY['critical'::character varying, 'major'::character varying, 'minor'::character varying, 'warning'::character varying])::text[]))),
    CONSTRAINT ck_alerts_status CHECK (((status)::text = ANY ((ARRAY['active'::character varying, 'acknowledged'::character varying, 'cleared'::character varying, 'closed'::character varying])::text[])))
);


--
-- Name: alerts_id_seq; Type: SEQUENCE; Schema: tepi_f93509f; Owner: -
--

CREATE SEQUENCE tepi_f93509f.alerts_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: alerts_id_seq; Type: SEQUENCE OWNED BY; Schema: tepi_f93509f; Owner: -
--

ALTER SEQUENCE tepi_f93509f.alerts_id_seq OWNED BY tepi_f93509f.alerts.id;


--
-- Name: api_keys; Type: TABLE; Schema: tepi_f93509f; Owner: -
--

CREATE TABLE tepi_f93509f.api_keys (
    id character varying(32) NOT NULL,
    tenant_id character varying(64) NOT NULL,
    user_id integer NOT NULL,
    key_hash character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone
);


--
-- Name: level_points; Type: TABLE; Schema: tepi_f93509f; Owner: -
--

CREATE TABLE tepi_f93509f.level_points (
    item_id character varying(200) NOT NULL,
    tenant_id character varying(64) NOT NULL,
    station_id character varying(64) NOT NULL,
    gateway character varying(64) NOT NULL,
    window_start timestamp with time zone NOT NULL,
    window_end timestamp with time zone NOT NULL,
    mean_cm double precision,
    min_cm double precision,
    max_cm double precision,
    last_cm double precision,
    count integer NOT NULL,
    qc_suspect integer NOT NULL,
    qc_fail integer NOT NULL,
    qc_missing integer NOT NULL
);


--
-- Name: processed_messages; Type: TABLE; Schema: tepi_f93509f; Owner: -
--

CREATE TABLE tepi_f93509f.processed_messages (
    item_id character varying(200) NOT NULL,
    tenant_id character varying(64) NOT NULL,
    gateway character varying(64) NOT NULL,
    processed_at timestamp with time zone NOT NULL
);


--
-- Name: stations; Type: TABLE; Schema: tepi_f93509f; Owner: -
--

CREATE TABLE tepi_f93509f.stations (
    id character varying(64) NOT NULL,
    tenant_id character varying(64) NOT NULL,
    name character varying(200) NOT NULL,
    river character varying(200) NOT NULL,
    lat double precision NOT NULL,
    lon double precision NOT NULL,
    siaga3_cm double precision NOT NULL,
    siaga2_cm double precision NOT NULL,
    siaga1_cm double precision NOT NULL,
    thresholds_source character varying(500) NOT NULL,
    last_level_cm double precision,
    last_siaga integer,
    first_seen_at timestamp with time zone,
    last_seen_at timestamp with time zone,
    siaga_changed_at timestamp with time zone,
    rise_changed_at timestamp with time zone,
    last_arrival_at timestamp with time zone
);


--
-- Name: tenants; Type: TABLE; Schema: tepi_f93509f; Owner: -
--

CREATE TABLE tepi_f93509f.tenants (
    id character varying(64) NOT NULL,
    name character varying(200) NOT NULL
);


--
-- Name: users; Type: TABLE; Schema: tepi_f93509f; Owner: -
--

CREATE TABLE tepi_f93509f.users (
    id integer NOT NULL,
    tenant_id character varying(64) NOT NULL,
    name character varying(200) NOT NULL,
    role character varying(32) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    disabled_at timestamp with time zone,
    CONSTRAINT ck_users_role CHECK (((role)::text = ANY ((ARRAY['admin'::character varying, 'disaster_office'::character varying, 'fisher'::character varying, 'staff_admin'::character varying, 'viewer'::character varying])::text[])))
);


--
-- Name: users_id_seq; Type: SEQUENCE; Schema: tepi_f93509f; Owner: -
--

CREATE SEQUENCE tepi_f93509f.users_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: users_id_seq; Type: SEQUENCE OWNED BY; Schema: tepi_f93509f; Owner: -
--

ALTER SEQUENCE tepi_f93509f.users_id_seq OWNED BY tepi_f93509f.users.id;


--
-- Name: alert_events seq; Type: DEFAULT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.alert_events ALTER COLUMN seq SET DEFAULT nextval('tepi_f93509f.alert_events_seq_seq'::regclass);


--
-- Name: alerts id; Type: DEFAULT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.alerts ALTER COLUMN id SET DEFAULT nextval('tepi_f93509f.alerts_id_seq'::regclass);


--
-- Name: users id; Type: DEFAULT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.users ALTER COLUMN id SET DEFAULT nextval('tepi_f93509f.users_id_seq'::regclass);


--
-- Data for Name: alert_events; Type: TABLE DATA; Schema: tepi_f93509f; Owner: -
--

INSERT INTO tepi_f93509f.alert_events VALUES (1, 1, 'dki-jakarta', 'katulampa', 'siaga', 'opened', 1, '2025-01-20 01:05:00+00', '2026-12-06 20:51:46.454095+00', 'gateway:gw-ciliwung', '{"alert": {"id": 1, "tenant_id": "dki-jakarta", "station_id": "katulampa", "type": "siaga", "severity": "minor", "siaga": 3, "peak_siaga": 3, "rate_cm_per_h": null, "status": "active", "revision": 1, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T01:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 95.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": null}, "detail": {}}');
INSERT INTO tepi_f93509f.alert_events VALUES (2, 2, 'dki-jakarta', 'depok', 'forecast', 'opened', 1, '2025-01-20 01:05:00+00', '2026-12-06 20:51:46.462428+00', 'gateway:gw-ciliwung', '{"alert": {"id": 2, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "forecast", "severity": "warning", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "active", "revision": 1, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T01:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 156.0, "upstream_station_id": "katulampa", "upstream_siaga": 3, "upstream_level_cm": 95.0, "expected_from": "2025-01-20T05:05:00+00:00", "expected_until": "2025-01-20T06:05:00+00:00", "last_arrival_at": null}, "detail": {"upstream_station": "katulampa", "upstream_siaga": 3, "upstream_level_cm": 95.0, "upstream_at": "2025-01-20T01:05:00+00:00", "travel_hours": [4.0, 5.0], "travel_source": "Katulampa -> Depok about 4-5 h (domain-facts)"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (3, 3, 'dki-jakarta', 'manggarai', 'forecast', 'opened', 1, '2025-01-20 01:05:00+00', '2026-12-06 20:51:46.46739+00', 'gateway:gw-ciliwung', '{"alert": {"id": 3, "tenant_id": "dki-jakarta", "station_id": "manggarai", "type": "forecast", "severity": "warning", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "active", "revision": 1, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T01:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 606.0, "upstream_station_id": "katulampa", "upstream_siaga": 3, "upstream_level_cm": 95.0, "expected_from": "2025-01-20T07:05:00+00:00", "expected_until": "2025-01-20T13:05:00+00:00", "last_arrival_at": null}, "detail": {"upstream_station": "katulampa", "upstream_siaga": 3, "upstream_level_cm": 95.0, "upstream_at": "2025-01-20T01:05:00+00:00", "travel_hours": [6.0, 12.0], "travel_source": "Official statements 6-12 h: SOP ~7 h, BPBD Pusdalops 9 h, Dinas PU 12 h"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (4, 1, 'dki-jakarta', 'katulampa', 'siaga', 'escalated', 2, '2025-01-20 01:25:00+00', '2026-12-06 20:51:46.486525+00', 'gateway:gw-ciliwung', '{"alert": {"id": 1, "tenant_id": "dki-jakarta", "station_id": "katulampa", "type": "siaga", "severity": "major", "siaga": 2, "peak_siaga": 2, "rate_cm_per_h": null, "status": "active", "revision": 2, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T01:25:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 160.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": null}, "detail": {}}');
INSERT INTO tepi_f93509f.alert_events VALUES (5, 2, 'dki-jakarta', 'depok', 'forecast', 'forecast_refined', 2, '2025-01-20 01:25:00+00', '2026-12-06 20:51:46.492092+00', 'gateway:gw-ciliwung', '{"alert": {"id": 2, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "forecast", "severity": "minor", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "active", "revision": 2, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T01:25:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 156.0, "upstream_station_id": "katulampa", "upstream_siaga": 2, "upstream_level_cm": 160.0, "expected_from": "2025-01-20T05:05:00+00:00", "expected_until": "2025-01-20T06:25:00+00:00", "last_arrival_at": null}, "detail": {"upstream_station": "katulampa", "upstream_siaga": 2, "upstream_level_cm": 160.0, "upstream_at": "2025-01-20T01:25:00+00:00", "travel_hours": [4.0, 5.0], "travel_source": "Katulampa -> Depok about 4-5 h (domain-facts)"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (6, 3, 'dki-jakarta', 'manggarai', 'forecast', 'forecast_refined', 2, '2025-01-20 01:25:00+00', '2026-12-06 20:51:46.496073+00', 'gateway:gw-ciliwung', '{"alert": {"id": 3, "tenant_id": "dki-jakarta", "station_id": "manggarai", "type": "forecast", "severity": "minor", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "active", "revision": 2, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T01:25:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 606.0, "upstream_station_id": "katulampa", "upstream_siaga": 2, "upstream_level_cm": 160.0, "expected_from": "2025-01-20T07:05:00+00:00", "expected_until": "2025-01-20T13:25:00+00:00", "last_arrival_at": null}, "detail": {"upstream_station": "katulampa", "upstream_siaga": 2, "upstream_level_cm": 160.0, "upstream_at": "2025-01-20T01:25:00+00:00", "travel_hours": [6.0, 12.0], "travel_source": "Official statements 6-12 h: SOP ~7 h, BPBD Pusdalops 9 h, Dinas PU 12 h"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (7, 4, 'dki-jakarta', 'depok', 'rate_of_rise', 'opened', 1, '2025-01-20 01:30:00+00', '2026-12-06 20:51:46.513206+00', 'gateway:gw-ciliwung', '{"alert": {"id": 4, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "rate_of_rise", "severity": "warning", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": 90.0, "status": "active", "revision": 1, "opened_at": "2025-01-20T01:30:00+00:00", "updated_at": "2025-01-20T01:30:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 190.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": null}, "detail": {}}');
INSERT INTO tepi_f93509f.alert_events VALUES (8, 4, 'dki-jakarta', 'depok', 'rate_of_rise', 'cleared', 2, '2025-01-20 02:00:00+00', '2026-12-06 20:51:46.528649+00', 'gateway:gw-ciliwung', '{"alert": {"id": 4, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "rate_of_rise", "severity": "warning", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": 90.0, "status": "cleared", "revision": 2, "opened_at": "2025-01-20T01:30:00+00:00", "updated_at": "2025-01-20T02:00:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": "2025-01-20T02:00:00+00:00", "cleared_by": "gateway:gw-ciliwung", "clear_reason": "rise_over", "closed_at": null, "closed_by": null, "last_level_cm": 195.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": null}, "detail": {"reason": "rise_over"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (9, 5, 'dki-jakarta', 'depok', 'siaga', 'opened', 1, '2025-01-20 06:05:00+00', '2026-12-06 20:51:46.54306+00', 'gateway:gw-ciliwung', '{"alert": {"id": 5, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "siaga", "severity": "minor", "siaga": 3, "peak_siaga": 3, "rate_cm_per_h": null, "status": "active", "revision": 1, "opened_at": "2025-01-20T06:05:00+00:00", "updated_at": "2025-01-20T06:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 210.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": null}, "detail": {}}');
INSERT INTO tepi_f93509f.alert_events VALUES (10, 2, 'dki-jakarta', 'depok', 'forecast', 'cleared', 3, '2025-01-20 06:05:00+00', '2026-12-06 20:51:46.547011+00', 'gateway:gw-ciliwung', '{"alert": {"id": 2, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "forecast", "severity": "minor", "siaga": 3, "peak_siaga": 3, "rate_cm_per_h": null, "status": "cleared", "revision": 3, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T06:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": "2025-01-20T06:05:00+00:00", "cleared_by": "gateway:gw-ciliwung", "clear_reason": "confirmed", "closed_at": null, "closed_by": null, "last_level_cm": 210.0, "upstream_station_id": "katulampa", "upstream_siaga": 2, "upstream_level_cm": 160.0, "expected_from": "2025-01-20T05:05:00+00:00", "expected_until": "2025-01-20T06:25:00+00:00", "last_arrival_at": null}, "detail": {"reason": "confirmed", "siaga": 3}}');
INSERT INTO tepi_f93509f.alert_events VALUES (11, 5, 'dki-jakarta', 'depok', 'siaga', 'cleared', 2, '2025-01-20 07:05:00+00', '2026-12-06 20:51:46.562729+00', 'gateway:gw-ciliwung', '{"alert": {"id": 5, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "siaga", "severity": "minor", "siaga": 3, "peak_siaga": 3, "rate_cm_per_h": null, "status": "cleared", "revision": 2, "opened_at": "2025-01-20T06:05:00+00:00", "updated_at": "2025-01-20T07:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": "2025-01-20T07:05:00+00:00", "cleared_by": "gateway:gw-ciliwung", "clear_reason": "level_normal", "closed_at": null, "closed_by": null, "last_level_cm": 180.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": null}, "detail": {"reason": "level_normal"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (12, 3, 'dki-jakarta', 'manggarai', 'forecast', 'updated', 3, '2025-01-20 07:05:00+00', '2026-12-06 20:51:46.566881+00', 'gateway:gw-ciliwung', '{"alert": {"id": 3, "tenant_id": "dki-jakarta", "station_id": "manggarai", "type": "forecast", "severity": "minor", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "active", "revision": 3, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T07:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 606.0, "upstream_station_id": "katulampa", "upstream_siaga": 2, "upstream_level_cm": 160.0, "expected_from": "2025-01-20T07:05:00+00:00", "expected_until": "2025-01-20T14:05:00+00:00", "last_arrival_at": null}, "detail": {"upstream_station": "depok", "upstream_siaga": 4, "upstream_level_cm": 180.0, "upstream_at": "2025-01-20T07:05:00+00:00", "travel_hours": [5.0, 7.0], "travel_source": "Depok -> Manggarai about 6 h (domain-facts)"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (13, 1, 'dki-jakarta', 'katulampa', 'siaga', 'cleared', 3, '2025-01-20 08:05:00+00', '2026-12-06 20:51:46.579538+00', 'gateway:gw-ciliwung', '{"alert": {"id": 1, "tenant_id": "dki-jakarta", "station_id": "katulampa", "type": "siaga", "severity": "major", "siaga": 2, "peak_siaga": 2, "rate_cm_per_h": null, "status": "cleared", "revision": 3, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T08:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": "2025-01-20T08:05:00+00:00", "cleared_by": "gateway:gw-ciliwung", "clear_reason": "level_normal", "closed_at": null, "closed_by": null, "last_level_cm": 70.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": null}, "detail": {"reason": "level_normal"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (14, 3, 'dki-jakarta', 'manggarai', 'forecast', 'updated', 4, '2025-01-20 08:05:00+00', '2026-12-06 20:51:46.585638+00', 'gateway:gw-ciliwung', '{"alert": {"id": 3, "tenant_id": "dki-jakarta", "station_id": "manggarai", "type": "forecast", "severity": "minor", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "active", "revision": 4, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T08:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 606.0, "upstream_station_id": "katulampa", "upstream_siaga": 2, "upstream_level_cm": 160.0, "expected_from": "2025-01-20T07:05:00+00:00", "expected_until": "2025-01-20T20:05:00+00:00", "last_arrival_at": null}, "detail": {"upstream_station": "katulampa", "upstream_siaga": 4, "upstream_level_cm": 70.0, "upstream_at": "2025-01-20T08:05:00+00:00", "travel_hours": [6.0, 12.0], "travel_source": "Official statements 6-12 h: SOP ~7 h, BPBD Pusdalops 9 h, Dinas PU 12 h"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (15, 6, 'dki-jakarta', 'katulampa', 'siaga', 'opened', 1, '2025-01-20 09:05:00+00', '2026-12-06 20:51:46.598569+00', 'gateway:gw-ciliwung', '{"alert": {"id": 6, "tenant_id": "dki-jakarta", "station_id": "katulampa", "type": "siaga", "severity": "minor", "siaga": 3, "peak_siaga": 3, "rate_cm_per_h": null, "status": "active", "revision": 1, "opened_at": "2025-01-20T09:05:00+00:00", "updated_at": "2025-01-20T09:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 90.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": null}, "detail": {}}');
INSERT INTO tepi_f93509f.alert_events VALUES (16, 7, 'dki-jakarta', 'depok', 'forecast', 'opened', 1, '2025-01-20 09:05:00+00', '2026-12-06 20:51:46.603943+00', 'gateway:gw-ciliwung', '{"alert": {"id": 7, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "forecast", "severity": "warning", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "active", "revision": 1, "opened_at": "2025-01-20T09:05:00+00:00", "updated_at": "2025-01-20T09:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 180.0, "upstream_station_id": "katulampa", "upstream_siaga": 3, "upstream_level_cm": 90.0, "expected_from": "2025-01-20T13:05:00+00:00", "expected_until": "2025-01-20T14:05:00+00:00", "last_arrival_at": null}, "detail": {"upstream_station": "katulampa", "upstream_siaga": 3, "upstream_level_cm": 90.0, "upstream_at": "2025-01-20T09:05:00+00:00", "travel_hours": [4.0, 5.0], "travel_source": "Katulampa -> Depok about 4-5 h (domain-facts)"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (17, 3, 'dki-jakarta', 'manggarai', 'forecast', 'updated', 5, '2025-01-20 09:05:00+00', '2026-12-06 20:51:46.607637+00', 'gateway:gw-ciliwung', '{"alert": {"id": 3, "tenant_id": "dki-jakarta", "station_id": "manggarai", "type": "forecast", "severity": "minor", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "active", "revision": 5, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T09:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 606.0, "upstream_station_id": "katulampa", "upstream_siaga": 2, "upstream_level_cm": 160.0, "expected_from": "2025-01-20T07:05:00+00:00", "expected_until": "2025-01-20T21:05:00+00:00", "last_arrival_at": null}, "detail": {"upstream_station": "katulampa", "upstream_siaga": 3, "upstream_level_cm": 90.0, "upstream_at": "2025-01-20T09:05:00+00:00", "travel_hours": [6.0, 12.0], "travel_source": "Official statements 6-12 h: SOP ~7 h, BPBD Pusdalops 9 h, Dinas PU 12 h"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (18, 8, 'dki-jakarta', 'depok', 'offline', 'opened', 1, '2025-01-21 00:00:00+00', '2026-12-06 20:51:46.618932+00', 'system', '{"alert": {"id": 8, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "offline", "severity": "warning", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "active", "revision": 1, "opened_at": "2025-01-21T00:00:00+00:00", "updated_at": "2025-01-21T00:00:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 180.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": "2025-01-20T07:05:00+00:00"}, "detail": {"last_arrival_at": "2025-01-20T07:05:00+00:00"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (19, 9, 'dki-jakarta', 'katulampa', 'offline', 'opened', 1, '2025-01-21 00:00:00+00', '2026-12-06 20:51:46.62226+00', 'system', '{"alert": {"id": 9, "tenant_id": "dki-jakarta", "station_id": "katulampa", "type": "offline", "severity": "warning", "siaga": 3, "peak_siaga": 3, "rate_cm_per_h": null, "status": "active", "revision": 1, "opened_at": "2025-01-21T00:00:00+00:00", "updated_at": "2025-01-21T00:00:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 90.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": "2025-01-20T09:05:00+00:00"}, "detail": {"last_arrival_at": "2025-01-20T09:05:00+00:00"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (20, 10, 'dki-jakarta', 'manggarai', 'offline', 'opened', 1, '2025-01-21 00:00:00+00', '2026-12-06 20:51:46.625459+00', 'system', '{"alert": {"id": 10, "tenant_id": "dki-jakarta", "station_id": "manggarai", "type": "offline", "severity": "warning", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "active", "revision": 1, "opened_at": "2025-01-21T00:00:00+00:00", "updated_at": "2025-01-21T00:00:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 606.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": "2025-01-20T01:00:00+00:00"}, "detail": {"last_arrival_at": "2025-01-20T01:00:00+00:00"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (21, 2, 'dki-jakarta', 'depok', 'forecast', 'closed', 3, '2025-01-21 01:00:00+00', '2026-12-06 20:51:46.634355+00', 'Petugas Pusdalops', '{"alert": {"id": 2, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "forecast", "severity": "minor", "siaga": 3, "peak_siaga": 3, "rate_cm_per_h": null, "status": "closed", "revision": 3, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T06:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": "2025-01-20T06:05:00+00:00", "cleared_by": "gateway:gw-ciliwung", "clear_reason": "confirmed", "closed_at": "2025-01-21T01:00:00+00:00", "closed_by": "Petugas Pusdalops", "last_level_cm": 210.0, "upstream_station_id": "katulampa", "upstream_siaga": 2, "upstream_level_cm": 160.0, "expected_from": "2025-01-20T05:05:00+00:00", "expected_until": "2025-01-20T06:25:00+00:00", "last_arrival_at": null}, "detail": {"note": "Banjir surut"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (22, 3, 'dki-jakarta', 'manggarai', 'forecast', 'acknowledged', 5, '2025-01-21 02:00:00+00', '2026-12-06 20:51:46.637392+00', 'Admin DKI', '{"alert": {"id": 3, "tenant_id": "dki-jakarta", "station_id": "manggarai", "type": "forecast", "severity": "minor", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "acknowledged", "revision": 5, "opened_at": "2025-01-20T01:05:00+00:00", "updated_at": "2025-01-20T09:05:00+00:00", "acknowledged_at": "2025-01-21T02:00:00+00:00", "acknowledged_by": "Admin DKI", "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 606.0, "upstream_station_id": "katulampa", "upstream_siaga": 2, "upstream_level_cm": 160.0, "expected_from": "2025-01-20T07:05:00+00:00", "expected_until": "2025-01-20T21:05:00+00:00", "last_arrival_at": null}, "detail": {"note": "Tim dikirim"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (23, 4, 'dki-jakarta', 'depok', 'rate_of_rise', 'closed', 2, '2025-01-21 01:00:00+00', '2026-12-06 20:51:46.639995+00', 'Petugas Pusdalops', '{"alert": {"id": 4, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "rate_of_rise", "severity": "warning", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": 90.0, "status": "closed", "revision": 2, "opened_at": "2025-01-20T01:30:00+00:00", "updated_at": "2025-01-20T02:00:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": "2025-01-20T02:00:00+00:00", "cleared_by": "gateway:gw-ciliwung", "clear_reason": "rise_over", "closed_at": "2025-01-21T01:00:00+00:00", "closed_by": "Petugas Pusdalops", "last_level_cm": 195.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": null}, "detail": {"note": "Banjir surut"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (24, 5, 'dki-jakarta', 'depok', 'siaga', 'closed', 2, '2025-01-21 01:00:00+00', '2026-12-06 20:51:46.642871+00', 'Petugas Pusdalops', '{"alert": {"id": 5, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "siaga", "severity": "minor", "siaga": 3, "peak_siaga": 3, "rate_cm_per_h": null, "status": "closed", "revision": 2, "opened_at": "2025-01-20T06:05:00+00:00", "updated_at": "2025-01-20T07:05:00+00:00", "acknowledged_at": null, "acknowledged_by": null, "cleared_at": "2025-01-20T07:05:00+00:00", "cleared_by": "gateway:gw-ciliwung", "clear_reason": "level_normal", "closed_at": "2025-01-21T01:00:00+00:00", "closed_by": "Petugas Pusdalops", "last_level_cm": 180.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": null}, "detail": {"note": "Banjir surut"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (25, 6, 'dki-jakarta', 'katulampa', 'siaga', 'acknowledged', 1, '2025-01-21 02:00:00+00', '2026-12-06 20:51:46.645161+00', 'Admin DKI', '{"alert": {"id": 6, "tenant_id": "dki-jakarta", "station_id": "katulampa", "type": "siaga", "severity": "minor", "siaga": 3, "peak_siaga": 3, "rate_cm_per_h": null, "status": "acknowledged", "revision": 1, "opened_at": "2025-01-20T09:05:00+00:00", "updated_at": "2025-01-20T09:05:00+00:00", "acknowledged_at": "2025-01-21T02:00:00+00:00", "acknowledged_by": "Admin DKI", "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 90.0, "upstream_station_id": null, "upstream_siaga": null, "upstream_level_cm": null, "expected_from": null, "expected_until": null, "last_arrival_at": null}, "detail": {"note": "Tim dikirim"}}');
INSERT INTO tepi_f93509f.alert_events VALUES (26, 7, 'dki-jakarta', 'depok', 'forecast', 'acknowledged', 1, '2025-01-21 02:00:00+00', '2026-12-06 20:51:46.647437+00', 'Admin DKI', '{"alert": {"id": 7, "tenant_id": "dki-jakarta", "station_id": "depok", "type": "forecast", "severity": "warning", "siaga": 4, "peak_siaga": 4, "rate_cm_per_h": null, "status": "acknowledged", "revision": 1, "opened_at": "2025-01-20T09:05:00+00:00", "updated_at": "2025-01-20T09:05:00+00:00", "acknowledged_at": "2025-01-21T02:00:00+00:00", "acknowledged_by": "Admin DKI", "cleared_at": null, "cleared_by": null, "clear_reason": null, "closed_at": null, "closed_by": null, "last_level_cm": 180.0, "upstream_station_id": "katulampa", "upstream_siaga": 3, "upstream_level_cm": 90.0, "expected_from": "2025-01-20T13:05:00+00:00", "expected_until": "2025-01-20T14:05:00+00:00", "last_arrival_at": null}, "detail": {"note": "Tim dikirim"}}');


--
-- Data for Name: alerts; Type: TABLE DATA; Schema: tepi_f93509f; Owner: -
--

INSERT INTO tepi_f93509f.alerts VALUES (1, 'dki-jakarta', 'katulampa', 'siaga', 'major', 2, 2, NULL, 'cleared', 3, '2025-01-20 01:05:00+00', '2025-01-20 08:05:00+00', NULL, NULL, '2025-01-20 08:05:00+00', 'gateway:gw-ciliwung', 'level_normal', NULL, NULL, 70, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO tepi_f93509f.alerts VALUES (8, 'dki-jakarta', 'depok', 'offline', 'warning', 4, 4, NULL, 'active', 1, '2025-01-21 00:00:00+00', '2025-01-21 00:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 180, NULL, NULL, NULL, NULL, NULL, '2025-01-20 07:05:00+00');
INSERT INTO tepi_f93509f.alerts VALUES (9, 'dki-jakarta', 'katulampa', 'offline', 'warning', 3, 3, NULL, 'active', 1, '2025-01-21 00:00:00+00', '2025-01-21 00:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 90, NULL, NULL, NULL, NULL, NULL, '2025-01-20 09:05:00+00');
INSERT INTO tepi_f93509f.alerts VALUES (10, 'dki-jakarta', 'manggarai', 'offline', 'warning', 4, 4, NULL, 'active', 1, '2025-01-21 00:00:00+00', '2025-01-21 00:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 606, NULL, NULL, NULL, NULL, NULL, '2025-01-20 01:00:00+00');
INSERT INTO tepi_f93509f.alerts VALUES (2, 'dki-jakarta', 'depok', 'forecast', 'minor', 3, 3, NULL, 'closed', 3, '2025-01-20 01:05:00+00', '2025-01-20 06:05:00+00', NULL, NULL, '2025-01-20 06:05:00+00', 'gateway:gw-ciliwung', 'confirmed', '2025-01-21 01:00:00+00', 'Petugas Pusdalops', 210, 'katulampa', 2, 160, '2025-01-20 05:05:00+00', '2025-01-20 06:25:00+00', NULL);
INSERT INTO tepi_f93509f.alerts VALUES (3, 'dki-jakarta', 'manggarai', 'forecast', 'minor', 4, 4, NULL, 'acknowledged', 5, '2025-01-20 01:05:00+00', '2025-01-20 09:05:00+00', '2025-01-21 02:00:00+00', 'Admin DKI', NULL, NULL, NULL, NULL, NULL, 606, 'katulampa', 2, 160, '2025-01-20 07:05:00+00', '2025-01-20 21:05:00+00', NULL);
INSERT INTO tepi_f93509f.alerts VALUES (4, 'dki-jakarta', 'depok', 'rate_of_rise', 'warning', 4, 4, 90, 'closed', 2, '2025-01-20 01:30:00+00', '2025-01-20 02:00:00+00', NULL, NULL, '2025-01-20 02:00:00+00', 'gateway:gw-ciliwung', 'rise_over', '2025-01-21 01:00:00+00', 'Petugas Pusdalops', 195, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO tepi_f93509f.alerts VALUES (5, 'dki-jakarta', 'depok', 'siaga', 'minor', 3, 3, NULL, 'closed', 2, '2025-01-20 06:05:00+00', '2025-01-20 07:05:00+00', NULL, NULL, '2025-01-20 07:05:00+00', 'gateway:gw-ciliwung', 'level_normal', '2025-01-21 01:00:00+00', 'Petugas Pusdalops', 180, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO tepi_f93509f.alerts VALUES (6, 'dki-jakarta', 'katulampa', 'siaga', 'minor', 3, 3, NULL, 'acknowledged', 1, '2025-01-20 09:05:00+00', '2025-01-20 09:05:00+00', '2025-01-21 02:00:00+00', 'Admin DKI', NULL, NULL, NULL, NULL, NULL, 90, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO tepi_f93509f.alerts VALUES (7, 'dki-jakarta', 'depok', 'forecast', 'warning', 4, 4, NULL, 'acknowledged', 1, '2025-01-20 09:05:00+00', '2025-01-20 09:05:00+00', '2025-01-21 02:00:00+00', 'Admin DKI', NULL, NULL, NULL, NULL, NULL, 180, 'katulampa', 3, 90, '2025-01-20 13:05:00+00', '2025-01-20 14:05:00+00', NULL);


--
-- Data for Name: api_keys; Type: TABLE DATA; Schema: tepi_f93509f; Owner: -
--

INSERT INTO tepi_f93509f.api_keys VALUES ('048f80e213e2a2d5', 'dki-jakarta', 1, '0b0575a9105625268998d597f7dc4b620ead92ffd1f4caa774641cfb7b5f262c', '2025-01-20 00:01:00+00', NULL);
INSERT INTO tepi_f93509f.api_keys VALUES ('fcd8e3184f0f8519', 'dki-jakarta', 2, 'f9f917ba9cf94123feb2876150d2b9d225649b74e37ca4ac8859210621d7c4c2', '2025-01-20 00:01:00+00', NULL);
INSERT INTO tepi_f93509f.api_keys VALUES ('2d456f2e4a764168', 'dki-jakarta', 3, 'd1398880b6472ee31656b2083a9745af471e17500bf03d2e5be4b7cd8c0d094e', '2025-01-20 00:01:00+00', NULL);
INSERT INTO tepi_f93509f.api_keys VALUES ('3ad82fc0246f28b4', 'kab-badung', 4, '093f76fea09badb5a7f1e2b92eda775b3337e31b2cbffeeb5cad99f4ccf8485b', '2025-01-20 00:01:00+00', NULL);
INSERT INTO tepi_f93509f.api_keys VALUES ('1aa3397f0b54419c', 'kab-sumedang', 5, 'a86ea286c564e4d3593300a994cd6af833d8e2b9a5c878ec6a2d0dc562cdf7fb', '2025-01-20 00:01:00+00', NULL);
INSERT INTO tepi_f93509f.api_keys VALUES ('77ef631727013d90', 'dki-jakarta', 6, '30796f2015bba1ec510d73c181ec5637364e64f8f3872e1b88ca604914a48976', '2025-01-20 00:00:00+00', '2025-01-22 00:00:00+00');


--
-- Data for Name: level_points; Type: TABLE DATA; Schema: tepi_f93509f; Owner: -
--

INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:katulampa:s:1737331200:0', 'dki-jakarta', 'katulampa', 'gw-ciliwung', '2025-01-20 00:00:00+00', '2025-01-20 00:10:00+00', 60, 58, 62, 61, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:katulampa:s:1737331800:10', 'dki-jakarta', 'katulampa', 'gw-ciliwung', '2025-01-20 00:10:00+00', '2025-01-20 00:20:00+00', 61, 59, 63, 62, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:katulampa:s:1737332400:20', 'dki-jakarta', 'katulampa', 'gw-ciliwung', '2025-01-20 00:20:00+00', '2025-01-20 00:30:00+00', 62, 60, 64, 63, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:katulampa:s:1737333000:30', 'dki-jakarta', 'katulampa', 'gw-ciliwung', '2025-01-20 00:30:00+00', '2025-01-20 00:40:00+00', 63, 61, 65, 64, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:katulampa:s:1737333600:40', 'dki-jakarta', 'katulampa', 'gw-ciliwung', '2025-01-20 00:40:00+00', '2025-01-20 00:50:00+00', 64, 62, 66, 65, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:katulampa:s:1737334200:50', 'dki-jakarta', 'katulampa', 'gw-ciliwung', '2025-01-20 00:50:00+00', '2025-01-20 01:00:00+00', 65, 63, 67, 66, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:depok:s:1737331200:0', 'dki-jakarta', 'depok', 'gw-ciliwung', '2025-01-20 00:00:00+00', '2025-01-20 00:10:00+00', 150, 148, 152, 151, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:depok:s:1737331800:10', 'dki-jakarta', 'depok', 'gw-ciliwung', '2025-01-20 00:10:00+00', '2025-01-20 00:20:00+00', 151, 149, 153, 152, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:depok:s:1737332400:20', 'dki-jakarta', 'depok', 'gw-ciliwung', '2025-01-20 00:20:00+00', '2025-01-20 00:30:00+00', 152, 150, 154, 153, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:depok:s:1737333000:30', 'dki-jakarta', 'depok', 'gw-ciliwung', '2025-01-20 00:30:00+00', '2025-01-20 00:40:00+00', 153, 151, 155, 154, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:depok:s:1737333600:40', 'dki-jakarta', 'depok', 'gw-ciliwung', '2025-01-20 00:40:00+00', '2025-01-20 00:50:00+00', 154, 152, 156, 155, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:depok:s:1737334200:50', 'dki-jakarta', 'depok', 'gw-ciliwung', '2025-01-20 00:50:00+00', '2025-01-20 01:00:00+00', 155, 153, 157, 156, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:manggarai:s:1737331200:0', 'dki-jakarta', 'manggarai', 'gw-ciliwung', '2025-01-20 00:00:00+00', '2025-01-20 00:10:00+00', 600, 598, 602, 601, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:manggarai:s:1737331800:10', 'dki-jakarta', 'manggarai', 'gw-ciliwung', '2025-01-20 00:10:00+00', '2025-01-20 00:20:00+00', 601, 599, 603, 602, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:manggarai:s:1737332400:20', 'dki-jakarta', 'manggarai', 'gw-ciliwung', '2025-01-20 00:20:00+00', '2025-01-20 00:30:00+00', 602, 600, 604, 603, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:manggarai:s:1737333000:30', 'dki-jakarta', 'manggarai', 'gw-ciliwung', '2025-01-20 00:30:00+00', '2025-01-20 00:40:00+00', 603, 601, 605, 604, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:manggarai:s:1737333600:40', 'dki-jakarta', 'manggarai', 'gw-ciliwung', '2025-01-20 00:40:00+00', '2025-01-20 00:50:00+00', 604, 602, 606, 605, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:manggarai:s:1737334200:50', 'dki-jakarta', 'manggarai', 'gw-ciliwung', '2025-01-20 00:50:00+00', '2025-01-20 01:00:00+00', 605, 603, 607, 606, 10, 0, 0, 0);
INSERT INTO tepi_f93509f.level_points VALUES ('gw-ciliwung:depok:s:1737334800:60', 'dki-jakarta', 'depok', 'gw-ciliwung', '2025-01-20 01:00:00+00', '2025-01-20 01:10:00+00', NULL, NULL, NULL, NULL, 0, 10, 0, 0);


--
-- Data for Name: processed_messages; Type: TABLE DATA; Schema: tepi_f93509f; Owner: -
--

INSERT INTO tepi_f93509f.processed_messages VALUES ('gw-ciliwung:katulampa:siaga:1737335100000:61', 'dki-jakarta', 'gw-ciliwung', '2025-01-20 01:05:00+00');
INSERT INTO tepi_f93509f.processed_messages VALUES ('gw-ciliwung:katulampa:siaga:1737336300000:81', 'dki-jakarta', 'gw-ciliwung', '2025-01-20 01:05:00+00');
INSERT INTO tepi_f93509f.processed_messages VALUES ('gw-ciliwung:depok:rise:1737336600000:85', 'dki-jakarta', 'gw-ciliwung', '2025-01-20 01:05:00+00');
INSERT INTO tepi_f93509f.processed_messages VALUES ('gw-ciliwung:depok:rise:1737338400000:115', 'dki-jakarta', 'gw-ciliwung', '2025-01-20 01:05:00+00');
INSERT INTO tepi_f93509f.processed_messages VALUES ('gw-ciliwung:depok:siaga:1737353100000:400', 'dki-jakarta', 'gw-ciliwung', '2025-01-20 06:05:00+00');
INSERT INTO tepi_f93509f.processed_messages VALUES ('gw-ciliwung:depok:siaga:1737356700000:460', 'dki-jakarta', 'gw-ciliwung', '2025-01-20 07:05:00+00');
INSERT INTO tepi_f93509f.processed_messages VALUES ('gw-ciliwung:katulampa:siaga:1737360300000:500', 'dki-jakarta', 'gw-ciliwung', '2025-01-20 08:05:00+00');
INSERT INTO tepi_f93509f.processed_messages VALUES ('gw-ciliwung:katulampa:siaga:1737363900000:560', 'dki-jakarta', 'gw-ciliwung', '2025-01-20 09:05:00+00');


--
-- Data for Name: stations; Type: TABLE DATA; Schema: tepi_f93509f; Owner: -
--

INSERT INTO tepi_f93509f.stations VALUES ('tukad-mati-kuta', 'kab-badung', 'Pos Tukad Mati Kuta', 'Tukad Mati', -8.7008, 115.1806, 150, 200, 250, 'ILLUSTRATIVE, NOT PUBLISHED: placeholder values; replace with BPBD Badung / BWS Bali-Penida thresholds', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO tepi_f93509f.stations VALUES ('manggarai', 'dki-jakarta', 'Pintu Air Manggarai', 'Ciliwung', -6.2089, 106.8497, 750, 850, 950, 'Dinas PU DKI criteria (Bisnis.com 2014; Kompas, beritajakarta 2015)', 606, 4, '2025-01-20 00:00:00+00', '2025-01-20 00:59:59+00', NULL, NULL, '2025-01-20 01:00:00+00');
INSERT INTO tepi_f93509f.stations VALUES ('depok', 'dki-jakarta', 'Pos Depok (Panus)', 'Ciliwung', -6.3967, 106.8317, 200, 270, 350, 'Dinas PU DKI criteria (Bisnis.com 2014; Kompas, beritajakarta 2015)', 180, 4, '2025-01-20 00:00:00+00', '2025-01-20 07:05:00+00', '2025-01-20 07:05:00+00', '2025-01-20 02:00:00+00', '2025-01-20 07:05:00+00');
INSERT INTO tepi_f93509f.stations VALUES ('katulampa', 'dki-jakarta', 'Bendung Katulampa', 'Ciliwung', -6.6336, 106.8375, 80, 150, 200, 'Dinas PU DKI criteria (Bisnis.com 2014; Kompas, beritajakarta 2015)', 90, 3, '2025-01-20 00:00:00+00', '2025-01-20 09:05:00+00', '2025-01-20 09:05:00+00', NULL, '2025-01-20 09:05:00+00');


--
-- Data for Name: tenants; Type: TABLE DATA; Schema: tepi_f93509f; Owner: -
--

INSERT INTO tepi_f93509f.tenants VALUES ('dki-jakarta', 'BPBD Provinsi DKI Jakarta');
INSERT INTO tepi_f93509f.tenants VALUES ('kab-badung', 'Kabupaten Badung');
INSERT INTO tepi_f93509f.tenants VALUES ('kab-sumedang', 'Kabupaten Sumedang');


--
-- Data for Name: users; Type: TABLE DATA; Schema: tepi_f93509f; Owner: -
--

INSERT INTO tepi_f93509f.users VALUES (1, 'dki-jakarta', 'Admin DKI', 'admin', '2025-01-20 00:00:00+00', NULL);
INSERT INTO tepi_f93509f.users VALUES (2, 'dki-jakarta', 'Petugas Pusdalops', 'disaster_office', '2025-01-20 00:00:00+00', NULL);
INSERT INTO tepi_f93509f.users VALUES (3, 'dki-jakarta', 'Nelayan Muara', 'fisher', '2025-01-20 00:00:00+00', NULL);
INSERT INTO tepi_f93509f.users VALUES (4, 'kab-badung', 'Admin Badung', 'admin', '2025-01-20 00:00:00+00', NULL);
INSERT INTO tepi_f93509f.users VALUES (5, 'kab-sumedang', 'Pengamat', 'viewer', '2025-01-20 00:00:00+00', NULL);
INSERT INTO tepi_f93509f.users VALUES (6, 'dki-jakarta', 'Staf Lama', 'staff_admin', '2025-01-20 00:00:00+00', '2025-01-22 00:00:00+00');


--
-- Name: alert_events_seq_seq; Type: SEQUENCE SET; Schema: tepi_f93509f; Owner: -
--

SELECT pg_catalog.setval('tepi_f93509f.alert_events_seq_seq', 26, true);


--
-- Name: alerts_id_seq; Type: SEQUENCE SET; Schema: tepi_f93509f; Owner: -
--

SELECT pg_catalog.setval('tepi_f93509f.alerts_id_seq', 10, true);


--
-- Name: users_id_seq; Type: SEQUENCE SET; Schema: tepi_f93509f; Owner: -
--

SELECT pg_catalog.setval('tepi_f93509f.users_id_seq', 6, true);


--
-- Name: alert_events alert_events_pkey; Type: CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.alert_events
    ADD CONSTRAINT alert_events_pkey PRIMARY KEY (seq);


--
-- Name: alerts alerts_pkey; Type: CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.alerts
    ADD CONSTRAINT alerts_pkey PRIMARY KEY (id);


--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);


--
-- Name: level_points level_points_pkey; Type: CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.level_points
    ADD CONSTRAINT level_points_pkey PRIMARY KEY (item_id);


--
-- Name: processed_messages processed_messages_pkey; Type: CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.processed_messages
    ADD CONSTRAINT processed_messages_pkey PRIMARY KEY (item_id);


--
-- Name: stations stations_pkey; Type: CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.stations
    ADD CONSTRAINT stations_pkey PRIMARY KEY (id);


--
-- Name: tenants tenants_pkey; Type: CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.tenants
    ADD CONSTRAINT tenants_pkey PRIMARY KEY (id);


--
-- Name: users uq_users_tenant_name; Type: CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.users
    ADD CONSTRAINT uq_users_tenant_name UNIQUE (tenant_id, name);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: ix_alert_events_alert_seq; Type: INDEX; Schema: tepi_f93509f; Owner: -
--

CREATE INDEX ix_alert_events_alert_seq ON tepi_f93509f.alert_events USING btree (alert_id, seq);


--
-- Name: ix_alerts_status_opened; Type: INDEX; Schema: tepi_f93509f; Owner: -
--

CREATE INDEX ix_alerts_status_opened ON tepi_f93509f.alerts USING btree (status, opened_at);


--
-- Name: ix_alerts_tenant_id; Type: INDEX; Schema: tepi_f93509f; Owner: -
--

CREATE INDEX ix_alerts_tenant_id ON tepi_f93509f.alerts USING btree (tenant_id);


--
-- Name: ix_api_keys_tenant_id; Type: INDEX; Schema: tepi_f93509f; Owner: -
--

CREATE INDEX ix_api_keys_tenant_id ON tepi_f93509f.api_keys USING btree (tenant_id);


--
-- Name: ix_api_keys_user_id; Type: INDEX; Schema: tepi_f93509f; Owner: -
--

CREATE INDEX ix_api_keys_user_id ON tepi_f93509f.api_keys USING btree (user_id);


--
-- Name: ix_level_points_station_window; Type: INDEX; Schema: tepi_f93509f; Owner: -
--

CREATE INDEX ix_level_points_station_window ON tepi_f93509f.level_points USING btree (station_id, window_start);


--
-- Name: ix_processed_messages_processed_at; Type: INDEX; Schema: tepi_f93509f; Owner: -
--

CREATE INDEX ix_processed_messages_processed_at ON tepi_f93509f.processed_messages USING btree (processed_at);


--
-- Name: ix_stations_tenant_id; Type: INDEX; Schema: tepi_f93509f; Owner: -
--

CREATE INDEX ix_stations_tenant_id ON tepi_f93509f.stations USING btree (tenant_id);


--
-- Name: ix_users_tenant_id; Type: INDEX; Schema: tepi_f93509f; Owner: -
--

CREATE INDEX ix_users_tenant_id ON tepi_f93509f.users USING btree (tenant_id);


--
-- Name: uq_alerts_one_open_per_station_type; Type: INDEX; Schema: tepi_f93509f; Owner: -
--

CREATE UNIQUE INDEX uq_alerts_one_open_per_station_type ON tepi_f93509f.alerts USING btree (station_id, type) WHERE ((status)::text = ANY ((ARRAY['active'::character varying, 'acknowledged'::character varying])::text[]));


--
-- Name: alert_events alert_events_alert_id_fkey; Type: FK CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.alert_events
    ADD CONSTRAINT alert_events_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES tepi_f93509f.alerts(id);


--
-- Name: alerts alerts_station_id_fkey; Type: FK CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.alerts
    ADD CONSTRAINT alerts_station_id_fkey FOREIGN KEY (station_id) REFERENCES tepi_f93509f.stations(id);


--
-- Name: alerts alerts_tenant_id_fkey; Type: FK CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.alerts
    ADD CONSTRAINT alerts_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tepi_f93509f.tenants(id);


--
-- Name: api_keys api_keys_tenant_id_fkey; Type: FK CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.api_keys
    ADD CONSTRAINT api_keys_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tepi_f93509f.tenants(id);


--
-- Name: api_keys api_keys_user_id_fkey; Type: FK CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.api_keys
    ADD CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES tepi_f93509f.users(id);


--
-- Name: stations stations_tenant_id_fkey; Type: FK CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.stations
    ADD CONSTRAINT stations_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tepi_f93509f.tenants(id);


--
-- Name: users users_tenant_id_fkey; Type: FK CONSTRAINT; Schema: tepi_f93509f; Owner: -
--

ALTER TABLE ONLY tepi_f93509f.users
    ADD CONSTRAINT users_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tepi_f93509f.tenants(id);


--
-- PostgreSQL database dump complete
--

\unrestrict l1e50lLGIWPI3nkLlttwBSsYVWKDFRie9h34FpjGCFQtxjoHJANKGSrUSpdIISI

