"""qcore telemetry over MQTT: a side channel, never a dependency.

Modules (imported individually, so that a topic lookup does not load the MQTT stack):

* :mod:`broker.topics` — the versioned topic schema under a deployment's topic prefix;
* :mod:`broker.payloads` — ``encode``/``decode`` of payloads, JSON that stock tools read;
* :mod:`broker.json_schema` — the JSON Schemas of the payloads (``broker/schemas/``);
* :mod:`broker.config` — where the broker is (``QCORE_MQTT_URL``, a local broker, or none);
* :mod:`broker.publisher` — :class:`~broker.publisher.TelemetryPublisher`, never blocking;
* :mod:`broker.subscriber` — decoded subscriptions and a collector for monitors;
* :mod:`broker.embedded` — an in-process amqtt broker (a login of its own, optionally TLS);
  ``python -m broker`` runs it;
* :mod:`broker.credentials` — MQTT logins: the embedded broker's, and where clients find one;
* :mod:`broker.tls` / :mod:`broker.tls_settings` — TLS credentials of the gRPC servers and
  channels and the ``mqtts://`` SSL context, from PEM files; the services' TLS settings;
* ``broker/mosquitto.conf`` — a loopback development Mosquitto; ``broker/production/`` — the
  production one (password file, ACLs, TLS listener);
* ``broker/monitoring/`` — a Telegraf MQTT-consumer config and a Grafana dashboard.
* :mod:`broker.tracing` — the services' other side channel: OpenTelemetry traces (``OTEL_*``).
"""
