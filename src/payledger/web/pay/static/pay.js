// Glue between the form and PayTrace Protect.js: the card is sealed by PayTrace's hosted
// fields, and only its one-time token and key are posted to payledger.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  var status = document.getElementById("status");
  var ready = window.PTPayment.setup({authorization: {clientKey: form.dataset.clientKey}});
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    status.textContent = "Sending your card to PayTrace…";
    ready.then(function () { return window.PTPayment.process(); }).then(function (result) {
      document.getElementById("hpf_token").value = result.message.hpf_token;
      document.getElementById("enc_key").value = result.message.enc_key;
      status.textContent = "Saving your card and taking the payment…";
      form.submit();
    }, function (error) {
      status.textContent = (error && error.reason) || "The card could not be read; check it.";
    });
  });
})();
