-- A neutralized copy of a production database must never reach a gateway with
-- the merchant's credentials.
UPDATE payment_provider
   SET webpay_prod_commerce_code = NULL,
       webpay_prod_api_key = NULL,
       webpay_prod_oneclick_commerce_code = NULL,
       webpay_prod_oneclick_api_key = NULL,
       etpay_test_api_token = NULL,
       etpay_prod_merchant_code = NULL,
       etpay_prod_api_token = NULL,
       cajavecina_basic_auth_password = NULL,
       cajavecina_path_secret = NULL,
       unicomer_test_password = NULL,
       unicomer_prod_username = NULL,
       unicomer_prod_password = NULL;

-- Unicomer's bearer token would reach the production API without any password.
DELETE FROM payment_unicomer_token;
