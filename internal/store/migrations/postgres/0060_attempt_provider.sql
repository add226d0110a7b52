-- Which SMS or voice provider carried each attempt (twilio, vonage; '' for channels with
-- one provider): with failover, a failed attempt through one provider and its retry
-- through the next are told apart, and the incident page shows what each went through.
ALTER TABLE delivery_attempts ADD COLUMN provider TEXT NOT NULL DEFAULT '';
