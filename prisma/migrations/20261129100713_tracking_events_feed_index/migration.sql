-- CreateIndex
CREATE INDEX "tracking_events_tenant_id_ts_id_idx" ON "tracking_events"("tenant_id", "ts", "id");

