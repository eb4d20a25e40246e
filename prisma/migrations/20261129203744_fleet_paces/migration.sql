-- CreateTable
CREATE TABLE "fleet_paces" (
    "tenant_id" UUID NOT NULL,
    "open" JSONB NOT NULL DEFAULT '[]',
    "near" JSONB NOT NULL DEFAULT '[]',
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "fleet_paces_pkey" PRIMARY KEY ("tenant_id")
);

-- AddForeignKey
ALTER TABLE "fleet_paces" ADD CONSTRAINT "fleet_paces_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

