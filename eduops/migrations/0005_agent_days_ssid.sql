-- Which agents have ever seen an SSID: coverage's wifi_unseen disagreement asks this of
-- every school's own SSID over all time. With this index each agent costs one probe,
-- however many days agent_days holds. Days without Wi-Fi are left out of it.
CREATE INDEX agent_days_ssid ON agent_days(wifi_ssid, agent_id) WHERE wifi_ssid IS NOT NULL;
