-- AlterTable
ALTER TABLE "shipments" ADD COLUMN     "status_at" TIMESTAMPTZ(3);

