-- DropIndex
DROP INDEX "positions_device_id_ts_key";

-- DropIndex
DROP INDEX "positions_tenant_id_device_id_ts_idx";

-- AlterTable
ALTER TABLE "positions" DROP CONSTRAINT "positions_pkey",
DROP COLUMN "id",
ADD CONSTRAINT "positions_pkey" PRIMARY KEY ("device_id", "ts");

