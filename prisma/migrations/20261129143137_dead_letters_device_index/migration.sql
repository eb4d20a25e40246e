-- CreateIndex
CREATE INDEX "dead_letters_tenant_id_device_id_received_at_idx" ON "dead_letters"("tenant_id", "device_id", "received_at");

